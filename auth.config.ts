import type { NextAuthConfig } from "next-auth";
import { errorResponse, unauthorized } from "./lib/errors";
import { gate } from "./lib/gate";
import { grantCapNote } from "./lib/providers/grant-cap";
import { configuredProviders } from "./lib/providers/registry";
import { SESSION_MAX_AGE_SECONDS, SESSION_UPDATE_AGE_SECONDS, sessionSecretList } from "./lib/session-check";

// Edge-safe half of the Auth.js config: it holds no adapter, no database and no
// token keys, so an edge bundle can import it; auth.ts adds those in Node.

/** Id, display name, whether it is generic (no catalogue entry), "link another account" parameters and what another consent costs (grant caps), for buttons and cards. */
export function authProviderLabels(): { id: string; name: string; generic: boolean; linkParams: Record<string, string>; grantCapNote: string | null }[] {
  return configuredProviders(process.env).map(({ id, name, generic, linkParams, spec }) => ({ id, name, generic, linkParams, grantCapNote: grantCapNote(name, spec.liveGrantCap) }));
}

export const authConfig = {
  providers: configuredProviders(process.env).map((provider) => provider.authjs),
  // Newest first, as the middleware takes them; next-auth alone would read AUTH_SECRET
  // only and refuse sessions sealed under AUTH_SECRET_1..3. (Empty: Auth.js's own lookup.)
  secret: sessionSecretList(process.env),
  pages: { signIn: "/signin" },
  // The middleware rolls sessions by these same numbers (lib/session-check.ts).
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS, updateAge: SESSION_UPDATE_AGE_SECONDS },
  trustHost: true,
  callbacks: {
    authorized({ auth, request }) {
      const decision = gate(request.nextUrl, Boolean(auth?.user));
      if (decision.kind === "unauthorized") return errorResponse(unauthorized());
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
