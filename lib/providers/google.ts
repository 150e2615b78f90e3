import type { ProviderSpec } from "./types";

// Google issues a refresh token only on consent (access_type=offline,
// prompt=consent) and does not rotate it; a refresh answers no new one.
export function google(clientId: string, clientSecret: string): ProviderSpec {
  return {
    id: "google",
    clientId,
    clientSecret,
    clientAuth: "post",
    rotatesRefreshTokens: false,
    allowHttp: false,
    authorizationServer: async () => ({
      issuer: "https://accounts.google.com",
      token_endpoint: "https://oauth2.googleapis.com/token",
      revocation_endpoint: "https://oauth2.googleapis.com/revoke",
      userinfo_endpoint: "https://openidconnect.googleapis.com/v1/userinfo",
    }),
  };
}
