import Google from "next-auth/providers/google";
import { emailVerifiedClaim, withVouchedEmail } from "./email";
import type { ProviderDefinition } from "./types";

// Google issues a refresh token only with offline access and only on the consent
// screen (access_type=offline, prompt=consent), and does not rotate it: a refresh
// answers no new one.
export const google: ProviderDefinition = {
  id: "google",
  configure(env) {
    const clientId = env.AUTH_GOOGLE_ID;
    const clientSecret = env.AUTH_GOOGLE_SECRET;
    if (!clientId || !clientSecret) return undefined;
    return {
      id: "google",
      name: "Google",
      linkParams: { prompt: "select_account consent", access_type: "offline" },
      // Incremental authorization: the new grant keeps the scopes granted before.
      moreScopesParams: { include_granted_scopes: "true", access_type: "offline", prompt: "consent" },
      // Google's ID token says whether it verified the address (email_verified).
      authjs: withVouchedEmail(Google({ clientId, clientSecret, authorization: { params: { access_type: "offline", prompt: "consent", response_type: "code" } } }), emailVerifiedClaim),
      spec: {
        id: "google",
        clientId,
        clientSecret,
        clientAuth: "post",
        rotatesRefreshTokens: false,
        allowHttp: false,
        // System parameters as headers: https://cloud.google.com/apis/docs/system-parameters
        apiHeaders: ["x-goog-user-project", "x-goog-fieldmask", "x-http-method-override"],
        apiBaseUrl: "https://www.googleapis.com",
        authorizationServer: async () => ({
          issuer: "https://accounts.google.com",
          token_endpoint: "https://oauth2.googleapis.com/token",
          revocation_endpoint: "https://oauth2.googleapis.com/revoke",
          userinfo_endpoint: "https://openidconnect.googleapis.com/v1/userinfo",
        }),
      },
    };
  },
};
