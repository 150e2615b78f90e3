import Discord from "next-auth/providers/discord";
import { withVouchedEmail } from "./email";
import type { ProviderDefinition } from "./types";

// Discord rotates refresh tokens: each is single-use, so two concurrent refreshes
// with the same one revoke the grant. The lease in lib/tokens exists for this.
export const discord: ProviderDefinition = {
  id: "discord",
  configure(env) {
    const clientId = env.AUTH_DISCORD_ID;
    const clientSecret = env.AUTH_DISCORD_SECRET;
    if (!clientId || !clientSecret) return undefined;
    return {
      id: "discord",
      name: "Discord",
      linkParams: { prompt: "consent" },
      moreScopesParams: { prompt: "consent" },
      // Discord's user object says whether the address is verified (`verified`, https://discord.com/developers/docs/resources/user).
      authjs: withVouchedEmail(Discord({ clientId, clientSecret }), (profile) => profile.verified === true),
      spec: {
        id: "discord",
        clientId,
        clientSecret,
        clientAuth: "post",
        rotatesRefreshTokens: true,
        allowHttp: false,
        // https://discord.com/developers/docs/resources/audit-log
        apiHeaders: ["x-audit-log-reason"],
        apiBaseUrl: "https://discord.com/api",
        authorizationServer: async () => ({
          issuer: "https://discord.com",
          token_endpoint: "https://discord.com/api/oauth2/token",
          revocation_endpoint: "https://discord.com/api/oauth2/token/revoke",
          userinfo_endpoint: "https://discord.com/api/users/@me",
        }),
      },
    };
  },
};
