import type * as o from "oauth4webapi";

/** What the refresh engine needs to know about one provider (Node side). */
export type ProviderSpec = {
  id: string;
  clientId: string;
  clientSecret: string;
  /** client_secret_basic or client_secret_post, as the provider documents. */
  clientAuth: "basic" | "post";
  /** Token, revocation and userinfo endpoints (static, or from discovery). */
  authorizationServer(): Promise<o.AuthorizationServer>;
  /** Does a refresh always return a new, single-use refresh token? */
  rotatesRefreshTokens: boolean;
  /** Plain http is accepted only for a loopback issuer (the dev provider). */
  allowHttp: boolean;
};
