import "server-only";
import { deleteAccount, findAccount, findUserAccounts } from "./db/accounts";
import { db } from "./db/client";
import { env } from "./env";
import { badRequest, notFound, TokenError } from "./errors";
import { logger } from "./log";
import { enabledProviders } from "./providers";
import { fetchUserinfo, isAccessTokenRejected, revokeToken } from "./providers/requests";
import { decryptOptional, keyring } from "./tokens/crypto";
import { tokenEngine } from "./tokens";
import { accountStatus, nextForcedRefreshAt, type AccountStatus } from "./tokens/status";

// What the /api/accounts routes and the dashboard do, in terms of the core. Nothing
// here returns a token value.

const log = logger("accounts");

export type AccountSummary = {
  provider: string;
  providerAccountId: string;
  status: AccountStatus;
  expiresAt: string | null;
  refreshedAt: string | null;
  lastError: string | null;
  failureCount: number;
  retryAfter: string | null;
};

const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Validates a provider id from a URL: 400 when malformed, 404 when not enabled. */
export function checkProvider(provider: string): string {
  if (!PROVIDER_ID.test(provider)) throw badRequest("provider must be 1-32 lowercase letters, digits, - or _");
  if (!enabledProviders().has(provider)) throw notFound(`provider "${provider}" is not enabled`);
  return provider;
}

export async function listAccounts(userId: string, now = new Date()): Promise<AccountSummary[]> {
  const rows = await findUserAccounts(db(), userId);
  return rows.map((row) => ({
    provider: row.provider,
    providerAccountId: row.providerAccountId,
    status: accountStatus(row, now),
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at * 1000).toISOString(),
    refreshedAt: row.refreshedAt?.toISOString() ?? null,
    lastError: row.lastError,
    failureCount: row.failureCount,
    retryAfter: row.retryAfter?.toISOString() ?? null,
  }));
}

async function summaryOf(userId: string, provider: string): Promise<AccountSummary> {
  const summary = (await listAccounts(userId)).find((account) => account.provider === provider);
  if (!summary) throw notFound(`no ${provider} account is linked`);
  return summary;
}

/**
 * "Refresh now", on a user's request: at most one per account per
 * TOKEN_FORCED_REFRESH_INTERVAL_SECONDS (default 30), counted from the last refresh
 * of any kind, so no user can spend the app's quota at the provider for everyone.
 */
export async function refreshNow(userId: string, provider: string, now = new Date()): Promise<AccountSummary> {
  const row = await findAccount(db(), userId, checkProvider(provider));
  if (!row) throw notFound(`no ${provider} account is linked`);
  const allowedAt = nextForcedRefreshAt(row.refreshedAt, env().TOKEN_FORCED_REFRESH_INTERVAL_SECONDS);
  if (allowedAt && allowedAt > now) {
    throw new TokenError("rate_limited", `this ${provider} account was refreshed moments ago; try again after ${allowedAt.toISOString()}`, { retryAfter: allowedAt });
  }
  await tokenEngine().forceRefresh(userId, provider);
  return summaryOf(userId, provider);
}

/** Calls the provider's userinfo API as the user; on a 401 refreshes once and retries. */
export async function callUserinfo(userId: string, provider: string): Promise<unknown> {
  const spec = enabledProviders().get(checkProvider(provider))!;
  const engine = tokenEngine();
  try {
    return await fetchUserinfo(spec, await engine.getAccessToken(userId, provider));
  } catch (error) {
    if (!isAccessTokenRejected(error)) throw error;
    log.info("userinfo.token_rejected", { provider });
    await engine.forceRefresh(userId, provider);
    return fetchUserinfo(spec, await engine.getAccessToken(userId, provider));
  }
}

export type DisconnectResult = { provider: string; revoked: boolean; revocationError: string | null };

/** Revokes the grant at the provider where it can (RFC 7009), then unlinks the account. */
export async function disconnect(userId: string, provider: string): Promise<DisconnectResult> {
  const spec = enabledProviders().get(checkProvider(provider))!;
  const row = await findAccount(db(), userId, provider);
  if (!row) throw notFound(`no ${provider} account is linked`);
  let revoked = false;
  let revocationError: string | null = null;
  try {
    const refreshToken = await decryptOptional(keyring(), row.refresh_token, row, "refresh_token");
    const accessToken = await decryptOptional(keyring(), row.access_token, row, "access_token");
    // The refresh token first: revoking it ends the grant at most providers.
    if (refreshToken) revoked = await revokeToken(spec, refreshToken, "refresh_token");
    if (accessToken) revoked = (await revokeToken(spec, accessToken, "access_token")) || revoked;
  } catch (error) {
    revocationError = (error as Error).message;
    log.warn("disconnect.revocation_failed", { provider, error });
  }
  await deleteAccount(db(), row.id);
  return { provider, revoked, revocationError };
}
