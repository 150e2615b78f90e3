import type * as o from "oauth4webapi";
import type { Provider } from "next-auth/providers";
import type { ErrorMatcher } from "./error-classes";

/** The environment a provider reads its credentials from (process.env, or a test's). */
export type ProviderEnv = Record<string, string | undefined>;

/** What the refresh engine, revocation, userinfo and the API proxy need (Node side). */
export type ProviderSpec = {
  id: string;
  clientId: string;
  clientSecret: string;
  /** client_secret_basic or client_secret_post, as the provider documents. */
  clientAuth: "basic" | "post";
  /** Token, revocation and userinfo endpoints (static, or from discovery). */
  authorizationServer(): Promise<o.AuthorizationServer>;
  /** Where the provider's own API lives: the proxy never leaves it. */
  apiBaseUrl: string;
  /** Request headers of the provider's API that the proxy forwards besides its own allow-list (lower case, from the provider's API docs). */
  apiHeaders: string[];
  /** Does a refresh always return a new, single-use refresh token? */
  rotatesRefreshTokens: boolean;
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
  spec: ProviderSpec;
};

/**
 * One provider's whole description. `configure` answers undefined when the
 * provider's credentials are not set: a provider is enabled iff they are.
 */
export type ProviderDefinition = {
  id: string;
  configure(env: ProviderEnv): ConfiguredProvider | undefined;
};
