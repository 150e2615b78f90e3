import * as o from "oauth4webapi";
import { emailVerifiedClaim, withVouchedEmail } from "./email";
import type { ProviderDefinition } from "./types";

const DISCOVERY_TIMEOUT_MS = 5_000;

// Hostnames that can only mean this machine (URL.hostname keeps IPv6 brackets):
// plain http is allowed for them alone, which is what the dev provider needs.
const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

// Discovery is cached per issuer for the life of the process; a failed discovery
// is forgotten so the next call tries again.
const discovered = new Map<string, Promise<o.AuthorizationServer>>();

export function discover(issuer: URL, allowHttp: boolean): Promise<o.AuthorizationServer> {
  const key = issuer.href;
  let pending = discovered.get(key);
  if (!pending) {
    pending = o
      .discoveryRequest(issuer, { [o.allowInsecureRequests]: allowHttp, signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) })
      .then((response) => o.processDiscoveryResponse(issuer, response));
    pending.catch(() => discovered.delete(key));
    discovered.set(key, pending);
  }
  return pending;
}

// Any OpenID Connect provider, from its issuer's discovery document. Whether it
// rotates refresh tokens is unknown in general: assume the strict case and never
// refresh concurrently. offline_access (granted on consent) is what makes it issue
// a refresh token at all.
export const oidc: ProviderDefinition = {
  id: "oidc",
  configure(env) {
    const issuer = env.AUTH_OIDC_ISSUER;
    const clientId = env.AUTH_OIDC_ID;
    const clientSecret = env.AUTH_OIDC_SECRET;
    if (!issuer || !clientId || !clientSecret || !URL.canParse(issuer)) return undefined;
    const url = new URL(issuer);
    const allowHttp = url.protocol === "http:" && LOOPBACK.has(url.hostname);
    const name = env.AUTH_OIDC_NAME ?? "OpenID Connect";
    return {
      id: "oidc",
      name,
      linkParams: { prompt: "login consent" },
      // Signing in again makes sure the consent is this account's, not whoever holds the provider's session.
      moreScopesParams: { prompt: "login consent" },
      authjs: withVouchedEmail({
        id: "oidc",
        name,
        type: "oidc",
        issuer,
        clientId,
        clientSecret,
        authorization: { params: { scope: "openid profile email offline_access", prompt: "consent" } },
        checks: ["pkce", "state"],
      }, emailVerifiedClaim),
      spec: {
        id: "oidc",
        clientId,
        clientSecret,
        clientAuth: "basic",
        rotatesRefreshTokens: true,
        allowHttp,
        apiHeaders: [],
        apiBaseUrl: env.AUTH_OIDC_API_BASE_URL ?? url.origin,
        authorizationServer: () => discover(url, allowHttp),
      },
    };
  },
};
