import type { OAuthConfig, Provider } from "next-auth/providers";
import { withVouchedEmail } from "./email";
import { discover, isLoopbackHttp } from "./discovery";
import type { ConfiguredProvider, ProviderCredentials, ProviderDescriptor, ProviderEnv } from "./types";

/**
 * The variables Auth.js reads for a provider id (`AUTH_<ID>_ID`, `_SECRET`, `_ISSUER`;
 * `<ID>` upper-cased with `-` → `_`, as next-auth's setEnvDefaults spells them).
 */
export function envNames(id: string): { id: string; secret: string; issuer: string } {
  const prefix = `AUTH_${id.toUpperCase().replace(/-/g, "_")}`;
  return { id: `${prefix}_ID`, secret: `${prefix}_SECRET`, issuer: `${prefix}_ISSUER` };
}

const set = (value: string | undefined) => (value?.trim() ? value.trim() : undefined);

/** The provider's credentials from `env`, or undefined when any it needs is unset (or the issuer is no URL). */
export function credentialsOf(descriptor: ProviderDescriptor, env: ProviderEnv): ProviderCredentials | undefined {
  const names = envNames(descriptor.id);
  const clientId = set(env[names.id]);
  const clientSecret = set(env[names.secret]);
  if (!clientId || !clientSecret) return undefined;
  if (descriptor.issuer === undefined) return { clientId, clientSecret };
  const issuer = set(env[names.issuer]);
  if (issuer === undefined && descriptor.issuer === "optional") return { clientId, clientSecret };
  if (!issuer || !URL.canParse(issuer)) return undefined;
  return { clientId, clientSecret, issuer };
}

/**
 * Auth.js's provider with the profile's email kept only where the provider vouches
 * for it (lib/providers/email.ts), and the profile's id as a string: some providers'
 * ids are numbers (Strava's athlete id, HubSpot's user_id), Auth.js passes them on as
 * they are, and Account.providerAccountId is text, so such a sign-in failed in the adapter.
 */
function authjsProvider(provider: Provider, emailVerified: (profile: Record<string, unknown>) => boolean = () => false): Provider {
  const config = (typeof provider === "function" ? provider() : provider) as OAuthConfig<Record<string, unknown>>;
  const vouched = withVouchedEmail(config, emailVerified);
  const profile = vouched.profile!;
  return {
    ...vouched,
    async profile(claims, tokens) {
      const user = await profile(claims, tokens);
      return typeof user.id === "number" ? { ...user, id: String(user.id) } : user;
    },
  } as Provider;
}

/**
 * A descriptor made concrete by the environment: undefined when the provider's
 * Auth.js variables are not set (a provider is enabled iff they are).
 */
export function configure(descriptor: ProviderDescriptor, env: ProviderEnv): ConfiguredProvider | undefined {
  const credentials = credentialsOf(descriptor, env);
  if (!credentials) return undefined;
  const endpoints = descriptor.endpoints(credentials);
  const issuerUrl = new URL("discovery" in endpoints ? endpoints.discovery : endpoints.issuer);
  const allowHttp = isLoopbackHttp(issuerUrl);
  const authorizationServer =
    "discovery" in endpoints
      ? () => discover(issuerUrl, allowHttp)
      : async () => ({
          issuer: endpoints.issuer,
          token_endpoint: endpoints.token,
          revocation_endpoint: endpoints.revocation,
          userinfo_endpoint: endpoints.userinfo,
        });
  const authjs = authjsProvider(descriptor.authjs(credentials, descriptor.offlineParams, env), descriptor.emailVerified);
  const name = (typeof authjs === "function" ? authjs() : authjs).name ?? descriptor.name;
  return {
    id: descriptor.id,
    name,
    authjs,
    linkParams: descriptor.linkParams ?? {},
    moreScopesParams: descriptor.moreScopesParams ?? {},
    generic: descriptor.generic ?? false,
    spec: {
      id: descriptor.id,
      clientId: credentials.clientId,
      clientSecret: credentials.clientSecret,
      clientAuth: descriptor.clientAuth,
      tokenRequestBody: descriptor.tokenRequestBody,
      authorizationServer,
      apiBaseUrl: typeof descriptor.apiBase === "string" ? descriptor.apiBase : descriptor.apiBase(env, credentials),
      apiBaseFromAnswer: descriptor.apiBaseFromAnswer,
      liveGrantCap: descriptor.liveGrantCap,
      rotation: descriptor.rotation,
      expiry: descriptor.expiry,
      refreshTokenLifetime: descriptor.refreshTokenLifetime,
      tokenAnswerPath: descriptor.tokenAnswerPath,
      allowHttp,
      errorMatchers: descriptor.errorMatchers,
      apiHeaders: descriptor.apiHeaders ?? [],
    },
  };
}
