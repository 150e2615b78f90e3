import type * as o from "oauth4webapi";
import type { Provider } from "next-auth/providers";
import type { ErrorMatcher } from "./error-classes";

/** The variables a provider reads its credentials from (the validated environment, lib/env.ts, or a test's). */
export type ProviderEnv = Record<string, string | undefined>;

/**
 * How the app authenticates at the token and revocation endpoints: client_secret_basic
 * or client_secret_post (RFC 6749 §2.3.1); `tokenRequestBody: "json"` sends the same
 * fields as a JSON body (Atlassian with post, Notion with basic).
 */
export type ClientAuthMethod = "basic" | "post";

/**
 * What a refresh does to the refresh token:
 * - none: never rotated (Google);
 * - strict: a new one each time, the old one dead at once; reusing it may revoke the grant (GitHub App, X, Zoom);
 * - lenient: a new one each time, the old one still accepted (Microsoft; Box answers a repeat with the same pair);
 * - may-rotate: sometimes a new one (Spotify, Strava, Twitch): keep whichever came.
 * `reuseGraceSeconds`: how long the provider documents the spent token as still accepted.
 */
export type Rotation = { mode: "none" | "strict" | "lenient" | "may-rotate"; reuseGraceSeconds?: number };

/**
 * How long a refresh token lives: a fixed span from the first consent (absolute), a
 * window that each use restarts (idle), or as the answer's refresh_token_expires_in says.
 */
export type RefreshTokenLifetime = { kind: "absolute" | "idle"; days: number } | { kind: "answer" };

/**
 * Where the access token's expiry comes from: expires_in, an absolute expires_at
 * (epoch s; Strava), or nowhere (Salesforce: the token is used until the API refuses
 * it, then refreshed; with no refresh token either, it never expires).
 */
export type ExpirySource = "expires_in" | "expires_at" | "none";

/**
 * An API base that comes from the token answer, at sign-in and at each refresh
 * (Salesforce's instance_url): the answer's field, and the domains the provider
 * documents its API hosts under (a host must be a subdomain of one; lib/providers/api-base.ts).
 */
export type ApiBaseFromAnswer = { field: string; domains: readonly string[] };

/** What the refresh engine, revocation, userinfo and the API proxy need (Node side). */
export type ProviderSpec = {
  id: string;
  clientId: string;
  clientSecret: string;
  clientAuth: ClientAuthMethod;
  tokenRequestBody?: "json";
  /** Token, revocation and userinfo endpoints (static, or from discovery). */
  authorizationServer(): Promise<o.AuthorizationServer>;
  /** Where the provider's own API lives: the proxy never leaves it (an account's own base, where apiBaseFromAnswer says, replaces it). */
  apiBaseUrl: string;
  /** The API base is each account's, from its token answers (lib/providers/api-base.ts). */
  apiBaseFromAnswer?: ApiBaseFromAnswer;
  /** How many live grants per user the provider keeps for this app; another consent ends the oldest. */
  liveGrantCap?: number;
  rotation: Rotation;
  expiry: ExpirySource;
  refreshTokenLifetime?: RefreshTokenLifetime;
  /** The token answer's field that holds the user's tokens, when they are nested (Slack: authed_user). */
  tokenAnswerPath?: string;
  /** Request headers of the provider's API that the proxy forwards besides its own allow-list (lower case, from the provider's API docs). */
  apiHeaders: readonly string[];
  /** Plain http is accepted only for a loopback issuer (the dev provider). */
  allowHttp: boolean;
  /** The provider's own error shapes, tried before the RFC 6749 / OpenID Connect table (lib/providers/error-classes.ts). */
  errorMatchers?: readonly ErrorMatcher[];
};

/** One provider, enabled: the Auth.js part (edge-safe) and the Node part. */
export type ConfiguredProvider = {
  id: string;
  /** Button and card label. */
  name: string;
  authjs: Provider;
  /** Authorization parameters that make the provider show its login (or account picker) again: "link another account". */
  linkParams: Record<string, string>;
  /** Authorization parameters, besides `scope`, that ask the same account to consent to more scopes. */
  moreScopesParams: Record<string, string>;
  /** No catalogue entry: a descriptor derived from Auth.js's configuration. */
  generic: boolean;
  spec: ProviderSpec;
};

/** Endpoints written down, or read from the issuer's discovery document. */
export type Endpoints = { issuer: string; token: string; revocation?: string; userinfo?: string } | { discovery: string };

/** The credentials Auth.js reads for a provider, and the issuer where it has one. */
export type ProviderCredentials = { clientId: string; clientSecret: string; issuer?: string };

/**
 * One provider as data (ARCHITECTURE.md "Provider descriptor"). Adding a provider is
 * one of these in lib/providers/catalogue.ts; nothing else branches on its id.
 */
export type ProviderDescriptor = {
  /** Auth.js's id: the callback path, Account.provider, and AUTH_<ID>_* (lib/providers/descriptor.ts). */
  id: string;
  name: string;
  /** Where the provider documents its OAuth behaviour: the source of every field below. */
  docs: string;
  /** Auth.js's own provider, given the credentials and the authorization parameters a refresh token needs. */
  authjs(credentials: ProviderCredentials, params: Record<string, string>, env: ProviderEnv): Provider;
  /** AUTH_<ID>_ISSUER: required (a tenant, a realm), read when set (generic providers), or not read. */
  issuer?: "required" | "optional";
  /** Derived from Auth.js's configuration alone (lib/providers/generic.ts): shown as generic. */
  generic?: boolean;
  /** Endpoints; a function of the issuer where there is one. */
  endpoints(credentials: ProviderCredentials): Endpoints;
  clientAuth: ClientAuthMethod;
  tokenRequestBody?: "json";
  /** Authorization parameters without which the provider issues no refresh token (access_type=offline …). */
  offlineParams: Record<string, string>;
  /** "Link another account": parameters that show the provider's login or account picker again. */
  linkParams?: Record<string, string>;
  /** "Request more access": parameters besides `scope`. */
  moreScopesParams?: Record<string, string>;
  expiry: ExpirySource;
  /** The API base, or the env variable that overrides it (generic OIDC); where apiBaseFromAnswer is set, the base of an account whose answers named none yet. */
  apiBase: string | ((env: ProviderEnv, credentials: ProviderCredentials) => string);
  /** Each account's API base comes from its token answers (Salesforce's instance_url). */
  apiBaseFromAnswer?: ApiBaseFromAnswer;
  rotation: Rotation;
  refreshTokenLifetime?: RefreshTokenLifetime;
  liveGrantCap?: number;
  tokenAnswerPath?: string;
  errorMatchers?: readonly ErrorMatcher[];
  /** Request headers of the provider's API the proxy may pass (lower case, from the provider's API docs; lib/proxy.ts). */
  apiHeaders?: readonly string[];
  /**
   * Whether the provider vouches for the profile's email (invariant 8: an email it does
   * not vouch for is never stored or matched; lib/providers/email.ts). Unset: it does not.
   */
  emailVerified?: (profile: Record<string, unknown>) => boolean;
  /** Variables besides AUTH_<ID>_ID/_SECRET/_ISSUER that the provider reads, by full name: free text or a URL. */
  extraEnv?: Readonly<Record<string, "text" | "url">>;
};
