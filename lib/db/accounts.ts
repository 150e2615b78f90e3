import "server-only";
import type { Db } from "./client";
import { Prisma, type Account } from "./generated/client";
import { eventsFrom, eventTypeSql, type Outbox } from "./outbox";
import { FRESH_TOKENS_STATE, type AccountRow, type Written } from "./account-row";

// The statements on Account outside the refresh path (lib/db/refresh.ts): reads,
// sign-in, sign-out, unlinking and re-encryption. Each is ONE statement (the Neon
// HTTP driver has no interactive transactions); writes compare the token version
// where a refresh could land meanwhile.

/** The user's accounts at one provider (several when the user linked several). */
export function findUserAccountsAt(db: Db, userId: string, provider: string): Promise<AccountRow[]> {
  return db.account.findMany({ where: { userId, provider }, orderBy: { createdAt: "asc" } });
}

/** The user's accounts, oldest link first (the dashboard's order). */
export function findUserAccounts(db: Db, userId: string): Promise<AccountRow[]> {
  return db.account.findMany({ where: { userId }, orderBy: { createdAt: "asc" } });
}

/**
 * The user's accounts, oldest link first, or null when no user has this id: one
 * statement, so "no such user" and "a user with no accounts" ([]) are told apart
 * without a second read.
 */
export async function findAccountsOfUser(db: Db, userId: string): Promise<AccountRow[] | null> {
  const rows = await db.$queryRaw<(AccountRow & { owner: string })[]>`
    SELECT u.id AS owner, a.*
      FROM "User" u LEFT JOIN "Account" a ON a."userId" = u.id
     WHERE u.id = ${userId}
     ORDER BY a."createdAt", a.id`;
  if (rows.length === 0) return null;
  return rows.filter((row) => row.id !== null).map(({ owner: _owner, ...account }) => account);
}

/** Unlinks one account, writing account.disconnected with it; `written` is 1 when it existed. */
export async function deleteAccount(db: Db, id: string, outbox: Outbox): Promise<Written> {
  const [row] = await db.$queryRaw<Written[]>`
    WITH gone AS (
      DELETE FROM "Account" WHERE id = ${id}
      RETURNING id, "userId", provider, 'disconnected' AS status, NULL::text AS "lastError"),
    events AS (${eventsFrom(Prisma.sql`SELECT g.*, 'account.disconnected' AS type FROM gone g`, outbox)})
    SELECT (SELECT count(*) FROM gone)::int AS written, (SELECT count(*) FROM events)::int AS events`;
  return row!;
}

export function findAccountById(db: Db, id: string): Promise<AccountRow | null> {
  return db.account.findUnique({ where: { id } });
}

/** The tokens of a sign-in, already encrypted; refreshToken undefined keeps the stored one. */
export type SignInWrite = {
  provider: string;
  providerAccountId: string;
  accessToken: string;
  refreshToken: string | undefined;
  idToken: string | null;
  /** Epoch seconds (the BIGINT column: past 2038 too). */
  expiresAt: number | null;
  scope: string | null;
  tokenType: string | null;
  /** Who the account is at the provider (kept when the sign-in says nothing new). */
  identity: string | null;
  /** The account's API base from the answer (lib/providers/api-base.ts); null keeps the stored one. */
  apiBaseUrl: string | null;
  /** The sweep policy's next refresh: a sign-in is a use. */
  nextSweepAt: Date;
};

/**
 * The space-separated union of the scopes stored and those a sign-in reports, in
 * first-seen order: a narrower answer (an ordinary sign-in asks for the default
 * scopes only) never erases scopes the account was granted later.
 */
function scopeUnion(stored: Prisma.Sql, reported: string | null): Prisma.Sql {
  return Prisma.sql`(SELECT NULLIF(string_agg(s, ' ' ORDER BY first), '') FROM (
      SELECT s, min(n) AS first FROM unnest(string_to_array(trim(concat_ws(' ', ${stored}, ${reported}::text)), ' ')) WITH ORDINALITY AS t(s, n)
       WHERE s <> '' GROUP BY s) scopes)`;
}

/**
 * Stores a sign-in's tokens on exactly that (provider, providerAccountId), resets
 * the failure and reauth state (account.recovered where those had been reported),
 * keeps every scope granted before (scopeUnion),
 * and takes the lease away from any refresh still in flight, so that refresh's older
 * result cannot overwrite these (its write-back compares the lease owner).
 */
export async function writeSignInTokens(db: Db, write: SignInWrite, outbox: Outbox): Promise<Written> {
  const [row] = await db.$queryRaw<Written[]>`
    WITH before AS (
      SELECT id, status, "failureCount" FROM "Account"
       WHERE provider = ${write.provider} AND "providerAccountId" = ${write.providerAccountId} FOR UPDATE),
    updated AS (
      UPDATE "Account" a
         SET access_token = ${write.accessToken},
             refresh_token = COALESCE(${write.refreshToken ?? null}::text, a.refresh_token),
             -- A new refresh token is a new grant: what was known of the old one's end goes.
             "refreshTokenExpiresAt" = CASE WHEN ${write.refreshToken ?? null}::text IS NULL THEN a."refreshTokenExpiresAt" END,
             "reauthBy" = CASE WHEN ${write.refreshToken ?? null}::text IS NULL THEN a."reauthBy" END,
             "reauthWarnedAt" = CASE WHEN ${write.refreshToken ?? null}::text IS NULL THEN a."reauthWarnedAt" END,
             id_token = ${write.idToken},
             expires_at = ${write.expiresAt}::int8,
             scope = ${scopeUnion(Prisma.sql`a.scope`, write.scope)},
             token_type = ${write.tokenType},
             identity = COALESCE(${write.identity}::text, a.identity),
             "apiBaseUrl" = COALESCE(${write.apiBaseUrl}::text, a."apiBaseUrl"),
             status = 'active',
             "tokenVersion" = a."tokenVersion" + 1,
             "refreshedAt" = now(),
             "lastUsedAt" = now(),
             "nextSweepAt" = ${write.nextSweepAt},
             ${FRESH_TOKENS_STATE}
        FROM before b
       WHERE a.id = b.id
      RETURNING a.id, a."userId", a.provider, a.status, a."lastError"),
    events AS (${eventsFrom(
      Prisma.sql`SELECT u.*, ${eventTypeSql("signed_in", outbox)} AS type
                   FROM updated u JOIN before b ON b.id = u.id`,
      outbox,
    )})
    SELECT (SELECT count(*) FROM updated)::int AS written, (SELECT count(*) FROM events)::int AS events`;
  return row!;
}

/** Clears every token of the user (sign-out) and frees any lease. Safe to repeat. */
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

export type StoredTokens = Pick<Account, "id" | "provider" | "providerAccountId" | "tokenVersion" | "access_token" | "refresh_token" | "id_token">;

/** One page of stored tokens by id, for re-encryption (keyset paging: stable under writes). */
export function readTokenPage(db: Db, afterId: string, pageSize: number): Promise<StoredTokens[]> {
  return db.account.findMany({
    where: { id: { gt: afterId } },
    orderBy: { id: "asc" },
    take: pageSize,
    select: { id: true, provider: true, providerAccountId: true, tokenVersion: true, access_token: true, refresh_token: true, id_token: true },
  });
}

/**
 * Replaces token ciphertexts (same plaintexts, another key) only if the row's token
 * version is still the one read: a refresh that landed meanwhile wrote newer tokens.
 */
export async function rewrapTokens(db: Db, id: string, tokenVersion: number, ciphertexts: Partial<Pick<Account, "access_token" | "refresh_token" | "id_token">>): Promise<boolean> {
  const { count } = await db.account.updateMany({ where: { id, tokenVersion }, data: ciphertexts });
  return count === 1;
}
