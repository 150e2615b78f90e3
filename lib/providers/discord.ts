import type { ProviderSpec } from "./types";

// Discord rotates refresh tokens: each is single-use, so two concurrent refreshes
// with the same one revoke the grant. The lease in lib/tokens exists for this.
export function discord(clientId: string, clientSecret: string): ProviderSpec {
  return {
    id: "discord",
    clientId,
    clientSecret,
    clientAuth: "post",
    rotatesRefreshTokens: true,
    allowHttp: false,
    authorizationServer: async () => ({
      issuer: "https://discord.com",
      token_endpoint: "https://discord.com/api/oauth2/token",
      revocation_endpoint: "https://discord.com/api/oauth2/token/revoke",
      userinfo_endpoint: "https://discord.com/api/users/@me",
    }),
  };
}
