import "server-only";
import { z } from "zod";
import { scopesOf, signConsentLink } from "./consent";
import { deleteAccount, findAccountsOfUser, findUserAccounts } from "./db/accounts";
import type { AccountRow } from "./db/account-row";
import { invalidRequest, notFound, AppError } from "./errors";
import { logger } from "./log";
import type { ProviderSpec } from "./providers";
import { fetchUserinfo, isAccessTokenRejected, revokeToken } from "./providers/requests";
import { decryptOptional } from "./tokens/crypto";
import { parseAccountRef, pickAccount } from "./tokens/pick-account";
import { accessTokenExpiry, accountStatus, forcedRefreshAllowed, nextForcedRefreshAt, type AccountStatus } from "./tokens/token-decision";
import { tokenkeeper } from "./tokenkeeper";
import { forgetAccessTokens } from "./tokens/token-cache";

// What the /api/accounts routes and the dashboard do, in terms of the core. An
// `{account}` is an account id, or a provider id while the user has one account
// there. Nothing here returns a token value.

const log = logger("accounts");

export type AccountSummary = {
  id: string;
  provider: string;
  providerAccountId: string;
  /** Who the account is at the provider: email, else name or username. */
  identity: string | null;
  scopes: string[];
  status: AccountStatus;
  expiresAt: string | null;
  refreshedAt: string | null;
  lastError: string | null;
  failureCount: number;
  retryAfter: string | null;
  /** When the grant ends whatever is refreshed (an absolute refresh-token lifetime): the user must sign in again by then. */
  reauthBy: string | null;
};

function summary(row: AccountRow, now: Date): AccountSummary {
  return {
    id: row.id,
    provider: row.provider,
    providerAccountId: row.providerAccountId,
    identity: row.identity,
    scopes: scopesOf(row),
    status: accountStatus(row, now),
    expiresAt: accessTokenExpiry(row.expires_at)?.toISOString() ?? null,
    refreshedAt: row.refreshedAt?.toISOString() ?? null,
    lastError: row.lastError,
    failureCount: row.failureCount,
    retryAfter: row.retryAfter?.toISOString() ?? null,
    reauthBy: row.reauthBy?.toISOString() ?? null,
  };
}

export async function listAccounts(userId: string, now = new Date()): Promise<AccountSummary[]> {
  return (await findUserAccounts(tokenkeeper().db, userId)).map((row) => summary(row, now));
}

/** The accounts of a user named by a service (/api/v1): 404 not_found when no such user exists, [] for a user with none. */
export async function listUserAccounts(userId: string, now = new Date()): Promise<AccountSummary[]> {
  const rows = await findAccountsOfUser(tokenkeeper().db, userId);
  if (rows === null) throw notFound("no such user");
  return rows.map((row) => summary(row, now));
}

/** The user's account `{account}` names, with its provider's spec (404 when that provider is off). */
export async function resolveAccount(userId: string, ref: string): Promise<{ row: AccountRow; spec: ProviderSpec }> {
  const { db, providers } = tokenkeeper();
  const row = pickAccount(await findUserAccounts(db, userId), parseAccountRef(ref, new Set(providers.keys())));
  const spec = providers.get(row.provider);
  if (!spec) throw notFound(`provider "${row.provider}" is not enabled`);
  return { row, spec };
}

/**
 * "Refresh now", on a user's request: at most one per account per
 * TOKEN_FORCED_REFRESH_INTERVAL_SECONDS (default 30), counted from the last refresh
 * of any kind, so no user can spend the app's quota at the provider for everyone.
 * The account is read once; the summary is of the row as the refresh wrote it.
 */
export async function refreshNow(userId: string, ref: string, now = new Date()): Promise<AccountSummary> {
  const { row } = await resolveAccount(userId, ref);
  const allowedAt = nextForcedRefreshAt(row.refreshedAt, tokenkeeper().config.TOKEN_FORCED_REFRESH_INTERVAL_SECONDS);
  if (allowedAt && allowedAt > now) {
    throw new AppError("rate_limited", `this ${row.provider} account was refreshed moments ago; try again after ${allowedAt.toISOString()}`, { retryAfter: allowedAt });
  }
  const { account } = await tokenkeeper().engine.forceRefresh(row);
  return summary(account, now);
}

/**
 * Calls the provider's userinfo API as the user; on a 401 refreshes once and retries,
 * as often as a forced refresh may run (else the 401 is a 502 provider_rejected).
 */
export async function callUserinfo(userId: string, ref: string): Promise<{ provider: string; userinfo: unknown }> {
  const { row, spec } = await resolveAccount(userId, ref);
  const { engine } = tokenkeeper();
  try {
    return { provider: row.provider, userinfo: await fetchUserinfo(spec, (await engine.issueToken(row)).accessToken) };
  } catch (error) {
    // Nothing to refresh with: the grant is over whenever it is refused (no provider call).
    if (!isAccessTokenRejected(error) || (row.refresh_token !== null && !forcedRefreshAllowed(row, tokenkeeper().config.TOKEN_FORCED_REFRESH_INTERVAL_SECONDS))) throw error;
    log.info("userinfo.token_rejected", { accountId: row.id, provider: row.provider });
    return { provider: row.provider, userinfo: await fetchUserinfo(spec, (await engine.accessTokenRefused(row)).accessToken) };
  }
}

export type DisconnectResult = { provider: string; revoked: boolean; revocationError: string | null };

/** Revokes the grant at the provider where it can (RFC 7009), then unlinks the account. */
export async function disconnect(userId: string, ref: string): Promise<DisconnectResult> {
  const { row, spec } = await resolveAccount(userId, ref);
  const { db, keyring, events: outbox } = tokenkeeper();
  let revoked = false;
  let revocationError: string | null = null;
  try {
    const refreshToken = await decryptOptional(keyring, row.refresh_token, row, "refresh_token");
    const accessToken = await decryptOptional(keyring, row.access_token, row, "access_token");
    // The refresh token first: revoking it ends the grant at most providers.
    if (refreshToken) revoked = await revokeToken(spec, refreshToken, "refresh_token");
    if (accessToken) revoked = (await revokeToken(spec, accessToken, "access_token")) || revoked;
  } catch (error) {
    revocationError = (error as Error).message;
    log.warn("disconnect.revocation_failed", { accountId: row.id, provider: row.provider, error });
  }
  const { events } = await deleteAccount(db, row.id, outbox.outbox);
  forgetAccessTokens({ accountId: row.id });
  outbox.written(events);
  return { provider: row.provider, revoked, revocationError };
}

// RFC 6749 §3.3: a scope token is printable ASCII without space, " or \.
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/;
const moreScopesBody = z.strictObject({
  scopes: z.array(z.string().regex(SCOPE_TOKEN, "each scope must be one RFC 6749 scope token (printable, no spaces or quotes)")).min(1).max(20),
});

/** The app's public origin: AUTH_URL when set, else the request's own. */
export function appOrigin(request: Request): string {
  return new URL(tokenkeeper().config.AUTH_URL ?? request.url).origin;
}

/** A consent link (lib/consent.ts) for one account, under `origin`: `{url, expiresAt}`. */
export function consentLink(row: AccountRow, origin: string, scopes: string[] = []): Promise<{ url: string; expiresAt: string }> {
  return signConsentLink(tokenkeeper().config.sessionSecrets[0]!, origin, { accountId: row.id, userId: row.userId, scopes });
}

/**
 * "Reconnect": a link that runs the provider's consent for this account again (with
 * the scopes it holds and a login hint) and brings the same account back to active.
 */
export async function reconnectLink(userId: string, ref: string, origin: string): Promise<{ url: string; expiresAt: string }> {
  const { row } = await resolveAccount(userId, ref);
  return consentLink(row, origin);
}

/**
 * "Request more access": a consent link for `scopes` on top of those the account
 * has. Opened by the signed-in owner it starts the provider's consent for this same
 * account; a consent that comes back as anyone else is refused and stores nothing
 * (lib/consent.ts). 400 for a malformed body.
 */
export async function requestMoreScopes(userId: string, ref: string, body: unknown, origin: string): Promise<{ url: string }> {
  const parsed = moreScopesBody.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalidRequest(`${issue.path.length ? issue.path.join(".") : "body"}: ${issue.message} (expected {"scopes": ["…"]})`);
  }
  const { row } = await resolveAccount(userId, ref);
  const { url } = await consentLink(row, origin, parsed.data.scopes);
  return { url };
}
