import type { NextAuthConfig } from "next-auth";
import type { Provider } from "next-auth/providers";
import Discord from "next-auth/providers/discord";
import Google from "next-auth/providers/google";
import { gate, unauthorizedResponse } from "./lib/gate";

// Edge-safe half of the Auth.js config: the middleware imports this file, so it
// holds no adapter, no database and no token keys; auth.ts adds those in Node.

/** The providers whose credentials are set (a provider is enabled iff its env is). */
export function enabledAuthProviders(env: Record<string, string | undefined> = process.env): Provider[] {
  const providers: Provider[] = [];
  if (env.AUTH_GOOGLE_ID && env.AUTH_GOOGLE_SECRET) {
    // A refresh token only comes with offline access, and only on the consent screen.
    providers.push(Google({ authorization: { params: { access_type: "offline", prompt: "consent", response_type: "code" } } }));
  }
  if (env.AUTH_DISCORD_ID && env.AUTH_DISCORD_SECRET) providers.push(Discord);
  if (env.AUTH_OIDC_ISSUER && env.AUTH_OIDC_ID && env.AUTH_OIDC_SECRET) {
    providers.push({
      id: "oidc",
      name: env.AUTH_OIDC_NAME ?? "OpenID Connect",
      type: "oidc",
      issuer: env.AUTH_OIDC_ISSUER,
      clientId: env.AUTH_OIDC_ID,
      clientSecret: env.AUTH_OIDC_SECRET,
      // offline_access (granted on consent) is what makes the provider issue a refresh token.
      authorization: { params: { scope: "openid profile email offline_access", prompt: "consent" } },
      checks: ["pkce", "state"],
    });
  }
  return providers;
}

/** Id and display name of each enabled provider, for buttons and cards. */
export function authProviderLabels(): { id: string; name: string }[] {
  return enabledAuthProviders().map((provider) => {
    const { id, name } = typeof provider === "function" ? provider() : provider;
    return { id, name };
  });
}

export const authConfig = {
  providers: enabledAuthProviders(),
  pages: { signIn: "/signin" },
  session: { strategy: "jwt" },
  trustHost: true,
  callbacks: {
    authorized({ auth, request }) {
      const decision = gate(request.nextUrl, Boolean(auth?.user));
      if (decision.kind === "unauthorized") return unauthorizedResponse();
      // false: Auth.js redirects to pages.signIn with the callbackUrl.
      return decision.kind === "pass";
    },
    jwt({ token, user }) {
      if (user?.id) token.sub = user.id;
      return token;
    },
    session({ session, token }) {
      if (token.sub) session.user.id = token.sub;
      return session;
    },
  },
} satisfies NextAuthConfig;
