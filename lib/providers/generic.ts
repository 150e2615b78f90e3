import type { AuthjsProviderFactory } from "./authjs-providers";
import type { ClientAuthMethod, Endpoints, ProviderCredentials, ProviderDescriptor } from "./types";

// Any other Auth.js OAuth provider: a descriptor derived from Auth.js's own
// configuration of it. What Auth.js knows is kept (token endpoint or discovery,
// client authentication, userinfo); what it does not is assumed on the safe side:
// rotation strict (never two refreshes at once, a lost answer not retried), expiry
// from expires_in, the API at the userinfo endpoint's origin. A quirk it needs is one
// entry in lib/providers/catalogue.ts, which then takes its place.

type AuthjsConfig = {
  name?: string;
  type?: string;
  issuer?: string;
  token?: string | { url?: string | URL };
  userinfo?: string | { url?: string | URL };
  client?: { token_endpoint_auth_method?: string };
};

const urlOf = (endpoint: AuthjsConfig["token"]) => (typeof endpoint === "string" ? endpoint : endpoint?.url?.toString());

/** Auth.js's configuration of the provider for these credentials (its factory's result). */
function authjsConfig(factory: AuthjsProviderFactory, { clientId, clientSecret, issuer }: ProviderCredentials): AuthjsConfig {
  const provider = factory({ clientId, clientSecret, ...(issuer ? { issuer } : {}) });
  return (typeof provider === "function" ? provider() : provider) as AuthjsConfig;
}

function endpointsOf(config: AuthjsConfig, credentials: ProviderCredentials): Endpoints {
  const issuer = credentials.issuer ?? config.issuer;
  const token = urlOf(config.token);
  if (config.type === "oidc" || !token) {
    if (!issuer) throw new Error("no issuer to discover the endpoints from: set AUTH_<ID>_ISSUER");
    return { discovery: issuer };
  }
  return { issuer: issuer ?? new URL(token).origin, token, userinfo: urlOf(config.userinfo) };
}

/** The descriptor of Auth.js's provider `id`, derived from its configuration; marked generic. */
export function genericDescriptor(id: string, factory: AuthjsProviderFactory): ProviderDescriptor {
  // Client authentication is fixed in each provider's module; the credentials do not change it.
  let clientAuth: ClientAuthMethod = "basic";
  let name = id;
  try {
    const sample = authjsConfig(factory, { clientId: "-", clientSecret: "-", issuer: "https://issuer.invalid" });
    if (sample.client?.token_endpoint_auth_method === "client_secret_post") clientAuth = "post";
    name = sample.name ?? id;
  } catch {
    // A provider that cannot be configured without real settings: Auth.js's default then.
  }
  return {
    id,
    name,
    generic: true,
    docs: `https://authjs.dev/getting-started/providers/${id}`,
    issuer: "optional",
    authjs: (credentials) => factory({ clientId: credentials.clientId, clientSecret: credentials.clientSecret, ...(credentials.issuer ? { issuer: credentials.issuer } : {}) }),
    endpoints: (credentials) => endpointsOf(authjsConfig(factory, credentials), credentials),
    // Auth.js's default, client_secret_basic, unless the provider's module says post.
    clientAuth,
    offlineParams: {},
    expiry: "expires_in",
    apiBase: (_env, credentials) => {
      const config = authjsConfig(factory, credentials);
      const endpoints = endpointsOf(config, credentials);
      return new URL(urlOf(config.userinfo) ?? ("discovery" in endpoints ? endpoints.discovery : endpoints.token)).origin;
    },
    rotation: { mode: "strict" },
  };
}
