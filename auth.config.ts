import type { NextAuthConfig } from "next-auth";
import { errorResponse, unauthorized } from "./lib/errors";
import { gate } from "./lib/gate";
import { SESSION_MAX_AGE_SECONDS, SESSION_UPDATE_AGE_SECONDS } from "./lib/session-check";

// Edge-safe half of the Auth.js config: it holds no adapter, no database and no
// token keys, and reads no environment, so an edge bundle can import it; auth.ts adds
// those in Node, with the providers and the session secrets from the one Config.

export const authConfig = {
  // The enabled ones come from the Config (auth.ts); deciding a session needs none.
  providers: [],
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
