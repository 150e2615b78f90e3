import "server-only";
import { PrismaAdapter } from "@auth/prisma-adapter";
import NextAuth, { type DefaultSession, type NextAuthConfig } from "next-auth";
import type { Adapter } from "next-auth/adapters";
import { cache } from "react";
import { authConfig } from "./auth.config";
import { signOutMode } from "./lib/env";
import { logger } from "./lib/log";
import { grantCapNote } from "./lib/providers/grant-cap";
import { consentMarkerFor, sameAccountSignIn } from "./lib/consent";
import { clearUserTokens } from "./lib/db/accounts";
import { deleteUserWithoutAccounts } from "./lib/db/users";
import { encryptAccountTokens, storeSignInTokens } from "./lib/tokens/signin-tokens";
import { tokenkeeper } from "./lib/tokenkeeper";
import { forgetAccessTokens } from "./lib/tokens/token-cache";

declare module "next-auth" {
  interface Session {
    user: { id: string } & DefaultSession["user"];
  }
}

const log = logger("auth");
/**
 * Auth.js error types a visitor's request causes (@auth/core's errors.js), not a fault
 * of the app. Not every OAuthCallbackError: a provider refusing the app's own client
 * (Entra's invalid_client at the code exchange, unauthorized_client) is one too.
 */
const REQUEST_CAUSED = new Set(["JWTSessionError", "SessionTokenError", "InvalidCheck", "MissingCSRF", "UnknownAction", "InvalidCallbackUrl", "AccessDenied"]);

/**
 * The visitor's doing: a type above, or an OAuthCallbackError on a callback that
 * carries the authorization response `error=access_denied`, the user cancelling
 * consent (RFC 6749 §4.1.2.1). Auth.js drops the response's parameters from that
 * error, so they are read from the callback's query (not from a form_post body).
 */
function requestCaused(error: Error, request: Request | undefined): boolean {
  const type = (error as Error & { type?: string }).type ?? "";
  if (REQUEST_CAUSED.has(type)) return true;
  return type === "OAuthCallbackError" && request !== undefined && new URL(request.url).searchParams.get("error") === "access_denied";
}

/**
 * The Prisma adapter, with the first link's tokens encrypted like every later write,
 * and no orphans: Auth.js creates the User before it links the Account, so a link
 * that fails would leave a User that no provider can sign in to, and every later
 * sign-in with that email would end in OAuthAccountNotLinked.
 */
function tokenkeeperAdapter(): Adapter {
  const { db, keyring } = tokenkeeper();
  const adapter = PrismaAdapter(db as unknown as Parameters<typeof PrismaAdapter>[0]);
  return {
    ...adapter,
    async linkAccount(account) {
      try {
        await adapter.linkAccount!(await encryptAccountTokens(keyring, account));
      } catch (error) {
        if (await deleteUserWithoutAccounts(db, account.userId)) log.warn("signin.orphan_removed", { userId: account.userId });
        throw error;
      }
    },
    // An orphan left before this fix (or by a crash between the two steps) is not a user.
    async getUserByEmail(email) {
      const user = await adapter.getUserByEmail!(email);
      if (user && (await deleteUserWithoutAccounts(db, user.id))) {
        log.warn("signin.orphan_removed", { userId: user.id });
        return null;
      }
      return user;
    },
  };
}

/**
 * The full config: the edge-safe part plus the adapter and the token events (Node
 * only). Per request: a callback finishing a consent started for one account (a
 * reconnect, more scopes) must come back as that account (lib/consent.ts).
 */
export async function nodeAuthConfig(request?: Request): Promise<NextAuthConfig> {
  const { sessionSecrets, providers } = tokenkeeper().config;
  const marker = request ? await consentMarkerFor(request, sessionSecrets) : null;
  if (marker) log.info("consent.callback", { accountId: marker.accountId, provider: marker.provider });
  return {
    ...authConfig,
    providers: providers.map((provider) => provider.authjs),
    // Newest first, as the middleware takes them: next-auth alone would read AUTH_SECRET
    // only and refuse sessions sealed under AUTH_SECRET_1..3.
    secret: sessionSecrets,
    adapter: tokenkeeperAdapter(),
    callbacks: { ...authConfig.callbacks, signIn: sameAccountSignIn(marker) },
    events: {
      // Auth.js stores tokens on the first link only; every later sign-in lands here.
      async signIn({ user, account, profile }) {
        if (!account) return;
        try {
          await storeSignInTokens(tokenkeeper(), account, profile);
        } catch (error) {
          log.error("signin.store_failed", { provider: account.provider, error });
        } finally {
          // New tokens, or a new account that makes a provider id name two: nothing cached holds.
          if (user.id) forgetAccessTokens({ userId: user.id });
        }
      },
      // With the JWT strategy the user is the token's subject. TOKENKEEPER_SIGN_OUT says
      // whether background access ends here (clear) or goes on (keep). Never throws into Auth.js.
      async signOut(message) {
        const userId = "token" in message ? message.token?.sub : message.session?.userId;
        if (!userId) return;
        try {
          if (signOutMode() === "keep") return log.info("signout.tokens_kept", { userId });
          await clearUserTokens(tokenkeeper().db, userId);
        } catch (error) {
          log.error("signout.clear_failed", { error });
        } finally {
          forgetAccessTokens({ userId });
        }
      },
    },
    logger: {
      // What a request causes by itself (a stale or forged cookie, a replayed callback, an
      // unknown action, a cancelled consent) is a warning: no visitor can fill the error log.
      error: (error) => (requestCaused(error, request) ? log.warn : log.error)("authjs.error", { error }),
      warn: (code) => log.warn("authjs.warn", { code }),
      debug: () => {},
    },
  };
}

/** Id, display name, whether it is generic (no catalogue entry), "link another account" parameters and what another consent costs (grant caps), for buttons and cards. */
export function authProviderLabels(): { id: string; name: string; generic: boolean; linkParams: Record<string, string>; grantCapNote: string | null }[] {
  return tokenkeeper().config.providers.map(({ id, name, generic, linkParams, spec }) => ({ id, name, generic, linkParams, grantCapNote: grantCapNote(name, spec.liveGrantCap) }));
}

const nextAuth = NextAuth(nodeAuthConfig);

export const { handlers, signIn, signOut } = nextAuth;
/** The session, read once per request. */
export const auth = cache(async () => nextAuth.auth());
