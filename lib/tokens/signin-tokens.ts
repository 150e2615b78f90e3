import "server-only";
import { writeSignInTokens } from "../db/accounts";
import { logger } from "../log";
import { acceptedApiBase, apiBaseOfAnswer } from "../providers/api-base";
import type { Tokenkeeper } from "../tokenkeeper";
import { encryptOptional, encryptToken, type Keyring } from "./crypto";
import { nextSweepAt } from "./sweep-policy";

// What Auth.js never does: keep an Account's tokens true after the first link.

const log = logger("signin");

/** The token fields of an Auth.js account, as events.signIn and linkAccount see them (with the rest of the token answer: instance_url …). */
export type SignInAccount = {
  provider: string;
  providerAccountId: string;
  access_token?: string | null;
  refresh_token?: string | null;
  id_token?: string | null;
  expires_at?: number | null;
  scope?: string | null;
  token_type?: string | null;
};

/** The same account with every token value encrypted (for linkAccount). */
export async function encryptAccountTokens<T extends SignInAccount>(keyring: Keyring, account: T): Promise<T> {
  return {
    ...account,
    access_token: await encryptOptional(keyring, account.access_token, account, "access_token"),
    refresh_token: await encryptOptional(keyring, account.refresh_token, account, "refresh_token"),
    id_token: await encryptOptional(keyring, account.id_token, account, "id_token"),
  };
}

/** The profile claims a sign-in brings (ID token or userinfo), as Auth.js passes them. */
export type SignInProfile = { email?: unknown; name?: unknown; preferred_username?: unknown; username?: unknown } | undefined;

/** Who the account is at the provider: its email when it gives one, else its name or username. */
export function identityOf(profile: SignInProfile): string | null {
  for (const claim of [profile?.email, profile?.name, profile?.preferred_username, profile?.username]) {
    if (typeof claim === "string" && claim.trim()) return claim.trim().slice(0, 320);
  }
  return null;
}

/**
 * Stores the tokens of a sign-in on its account, encrypted, with who the account is.
 * Keeps the stored refresh token when the provider sent none (Google on a repeat
 * consent). Returns how many webhook events that wrote (account.recovered); they are
 * sent after the response.
 */
export async function storeSignInTokens(app: Pick<Tokenkeeper, "db" | "keyring" | "events" | "sweepPolicy" | "providers">, account: SignInAccount, profile?: SignInProfile): Promise<number> {
  const { db, keyring, sweepPolicy } = app;
  if (!account.access_token) return 0; // credentials, email: no tokens
  const now = new Date();
  const spec = app.providers.get(account.provider);
  const apiBase = spec ? apiBaseOfAnswer(spec, account) : undefined;
  const expiresAt = typeof account.expires_at === "number" ? new Date(account.expires_at * 1000) : null;
  const { events } = await writeSignInTokens(
    db,
    {
      provider: account.provider,
      providerAccountId: account.providerAccountId,
      accessToken: await encryptToken(keyring, account.access_token, account, "access_token"),
      refreshToken: account.refresh_token ? await encryptToken(keyring, account.refresh_token, account, "refresh_token") : undefined,
      idToken: await encryptOptional(keyring, account.id_token, account, "id_token"),
      expiresAt: account.expires_at ?? null,
      scope: account.scope ?? null,
      tokenType: account.token_type ?? null,
      identity: identityOf(profile),
      apiBaseUrl: acceptedApiBase(apiBase, (reason) => log.warn("signin.api_base_refused", { provider: account.provider, reason })),
      // Signing in is a use: the sweep keeps this account fresh while it is active.
      nextSweepAt: nextSweepAt(sweepPolicy, { lastUsedAt: now, expiresAt, refreshedAt: now }, now),
    },
    app.events.outbox,
  );
  app.events.written(events);
  return events;
}
