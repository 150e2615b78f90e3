import "server-only";
import type { Db } from "../db/client";
import { encryptOptional, type Keyring } from "./crypto";

// What Auth.js never does: keep an Account's tokens true after the first link.

/** The token fields of an Auth.js account, as events.signIn and linkAccount see them. */
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
    access_token: await encryptOptional(keyring, account.access_token),
    refresh_token: await encryptOptional(keyring, account.refresh_token),
    id_token: await encryptOptional(keyring, account.id_token),
  };
}

/**
 * Stores the tokens of a sign-in on exactly that (provider, providerAccountId).
 * Keeps the stored refresh token when the provider sent none (Google on a repeat
 * consent), resets the failure state, and takes the lease away from any refresh
 * still in flight so its older result cannot overwrite these. One statement.
 * Returns false when there was nothing to store.
 */
export async function storeSignInTokens(db: Db, keyring: Keyring, account: SignInAccount): Promise<boolean> {
  if (!account.access_token) return false; // credentials, email: no tokens
  const { count } = await db.account.updateMany({
    where: { provider: account.provider, providerAccountId: account.providerAccountId },
    data: {
      access_token: await encryptOptional(keyring, account.access_token),
      ...(account.refresh_token ? { refresh_token: await encryptOptional(keyring, account.refresh_token) } : {}),
      id_token: await encryptOptional(keyring, account.id_token),
      expires_at: account.expires_at ?? null,
      scope: account.scope ?? null,
      token_type: account.token_type ?? null,
      status: "active",
      tokenVersion: { increment: 1 },
      refreshedAt: new Date(),
      failureCount: 0,
      lastError: null,
      retryAfter: null,
      leaseOwner: null,
      leaseUntil: null,
    },
  });
  return count > 0;
}

/** Clears every token of the user (sign-out). Safe to repeat. */
export async function clearUserTokens(db: Db, userId: string): Promise<number> {
  const { count } = await db.account.updateMany({
    where: { userId },
    data: {
      access_token: null,
      refresh_token: null,
      id_token: null,
      expires_at: null,
      status: "signed_out",
      tokenVersion: { increment: 1 },
      leaseOwner: null,
      leaseUntil: null,
      retryAfter: null,
    },
  });
  return count;
}
