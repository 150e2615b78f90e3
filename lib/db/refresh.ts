import "server-only";
import type { Db } from "./client";
import { FRESH_TOKENS_STATE, type AccountRow, type Written } from "./account-row";
import { Prisma } from "./generated/client";
import { eventsFrom, eventTypeSql, type Outbox } from "./outbox";

// The refresh engine's and the sweep's statements. Each is ONE statement: the Neon
// HTTP driver has no interactive transactions, so claims are conditional UPDATE …
// RETURNING (SKIP LOCKED for batches) and write-backs are compare-and-set on the
// lease owner.

/**
 * Where decide() says "refresh" (lib/tokens/token-decision.ts claimCondition): the
 * access token is missing or expires at or before `staleBy` (epoch s), or its version
 * is at most `forceAfterVersion` (a forced refresh), and any back-off has ended by
 * `at`, the instant decide() judged at. retryAfter was written by the clock of the
 * instance whose refresh failed: an instance whose clock runs ahead of that one ends
 * the back-off early by the difference (the lease, by the database's clock, still
 * keeps refreshes one at a time).
 */
export type ClaimCondition = { at: Date; staleBy: number; forceAfterVersion?: number };

export type ClaimOptions = {
  owner: string;
  leaseMs: number;
  /** Claim only where decide() says "refresh" (undefined: whatever the tokens, back-offs ending by the database's clock). */
  when?: ClaimCondition;
};

/**
 * Takes the refresh lease of one account if it is free (or its holder's lease ran
 * out), the account is active and not backing off. Returns the row as it is now,
 * or null when someone else holds the lease or there is nothing to refresh. A lease
 * ends by the database's clock, which wrote it: one clock for every instance, so no
 * instance whose clock runs ahead takes a live holder's lease (its rotated refresh
 * token would be lost with its write).
 */
export async function claimLease(db: Db, id: string, { owner, leaseMs, when }: ClaimOptions): Promise<AccountRow | null> {
  const forced = when?.forceAfterVersion === undefined ? Prisma.sql`FALSE` : Prisma.sql`"tokenVersion" <= ${when.forceAfterVersion}`;
  const stale = when === undefined ? Prisma.sql`TRUE` : Prisma.sql`(access_token IS NULL OR expires_at <= ${when.staleBy} OR ${forced})`;
  const backedOffUntil = when === undefined ? Prisma.sql`now()` : Prisma.sql`${when.at}`;
  const rows = await db.$queryRaw<AccountRow[]>`
    UPDATE "Account"
       SET "leaseOwner" = ${owner}, "leaseUntil" = now() + ${leaseMs} * interval '1 millisecond'
     WHERE id = ${id}
       AND status = 'active'
       AND refresh_token IS NOT NULL
       AND ("leaseUntil" IS NULL OR "leaseUntil" < now())
       AND ("retryAfter" IS NULL OR "retryAfter" <= ${backedOffUntil})
       AND ${stale}
    RETURNING *`;
  return rows[0] ?? null;
}

export type SweepClaim = {
  owner: string;
  /** Only accounts of these (enabled, not paused) providers. */
  providers: string[];
  leaseMs: number;
  limit: number;
  /**
   * The run's start by the database's clock (startSweepRun), which stamps what the
   * run writes: an account written since (refreshed, failed, signed in, by this run
   * or another) is not claimed again in this run, so two concurrent runs refresh
   * an account once, and a failure whose back-off ends within the run is retried by
   * the next run. What a claim sends stays the same however much the run claimed.
   */
  notWrittenSince: Date;
  /** lastError prefix of rows the current keys could not decrypt: not claimed until the keys change. */
  undecryptableMarker: string;
};

/**
 * Claims a batch of due accounts in one statement: those whose nextSweepAt (set by
 * the sweep policy on every write) has come, one range of the (status, nextSweepAt)
 * index. Concurrent sweeps skip each other's rows. Within a run an account is claimed
 * at most once: a claimed row keeps its lease until it is written (the lease outlasts
 * the run's budget), and a written row has "updatedAt" past the run's start (every
 * write of a row sets it: FRESH_TOKENS_STATE, recordFailure, Prisma's @updatedAt).
 */
export function claimDueAccounts(db: Db, { owner, providers, leaseMs, limit, notWrittenSince, undecryptableMarker }: SweepClaim): Promise<AccountRow[]> {
  // UPDATE … RETURNING has no order of its own: the outer SELECT hands the batch
  // back soonest-due first, the order the sweep refreshes in.
  return db.$queryRaw<AccountRow[]>`
    WITH claimed AS (
      UPDATE "Account"
         SET "leaseOwner" = ${owner}, "leaseUntil" = now() + ${leaseMs} * interval '1 millisecond'
       WHERE id IN (
         SELECT id FROM "Account"
          WHERE status = 'active'
            AND "nextSweepAt" <= now()
            AND provider = ANY(${providers}::text[])
            AND refresh_token IS NOT NULL
            AND ("leaseUntil" IS NULL OR "leaseUntil" < now())
            AND ("retryAfter" IS NULL OR "retryAfter" <= now())
            AND "updatedAt" < ${notWrittenSince}
            AND NOT starts_with(COALESCE("lastError", ''), ${undecryptableMarker})
          ORDER BY "nextSweepAt"
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
      RETURNING *)
    SELECT * FROM claimed ORDER BY "nextSweepAt", id`;
}

/**
 * How many accounts are due now, counting at most `cap` (one range of the same
 * index). A paused provider's accounts (ProviderPause, until pausedUntil) are not
 * counted: no run claims them, so they must not start workers.
 */
export async function countDueAccounts(db: Db, { providers, cap }: { providers: string[]; cap: number }): Promise<number> {
  const [row] = await db.$queryRaw<{ due: number }[]>`
    SELECT count(*)::int AS due FROM (
      SELECT 1 FROM "Account" a
       WHERE a.status = 'active' AND a."nextSweepAt" <= now()
         AND a.provider = ANY(${providers}::text[]) AND a.refresh_token IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM "ProviderPause" p WHERE p.provider = a.provider AND p."pausedUntil" > now())
       LIMIT ${cap}) due`;
  return row!.due;
}

/** New tokens for one claimed account, already encrypted. */
export type TokenWrite = {
  id: string;
  owner: string;
  accessToken: string;
  refreshToken: string;
  /** Epoch seconds (the BIGINT column). */
  expiresAt: number | null;
  scope: string | null;
  tokenType: string | null;
  idToken: string | null;
  /** The account's API base from the answer (lib/providers/api-base.ts); null or absent keeps the stored one. */
  apiBaseUrl?: string | null;
  /** When the refresh token dies, where the provider said. */
  refreshTokenExpiresAt: Date | null;
  /** When the grant ends whatever we do (lib/tokens/grant-end.ts), and when that was warned of. */
  reauthBy: Date | null;
  reauthWarnedAt: Date | null;
  /** Write account.reauth_upcoming with this write. */
  warnReauth: boolean;
  /** The sweep policy's next refresh for this account. */
  nextSweepAt: Date;
  /** Handed out to a caller (an on-demand refresh): records the use. */
  used: boolean;
};

/** An instant as JSON events carry it (ISO 8601 in UTC, as Date.toJSON writes). */
export const isoInstant = (column: Prisma.Sql) => Prisma.sql`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * Stores refreshed tokens for many accounts in one statement, each only if its
 * writer still holds the lease (account.recovered where failures had been reported,
 * account.reauth_upcoming where the write says so). A refresh that worked also lifts
 * its provider's pause (lib/db/provider-pauses.ts): the credentials work again.
 * Returns the ids written with their new version, and with `{ rows: true }` the rows
 * as written (a caller that goes on with the account need not read it again).
 */
export async function writeTokens(
  db: Db,
  writes: TokenWrite[],
  outbox: Outbox,
  { rows: wantRows = false } = {},
): Promise<{ versions: Map<string, number>; rows: Map<string, AccountRow>; events: number }> {
  if (writes.length === 0) return { versions: new Map(), rows: new Map(), events: 0 };
  const column = <K extends keyof TokenWrite>(key: K) => writes.map((write) => write[key]);
  const rows = await db.$queryRaw<(AccountRow & { events: number })[]>`
    WITH v AS (
      SELECT * FROM unnest(${column("id")}::text[], ${column("owner")}::text[], ${column("accessToken")}::text[],
                           ${column("refreshToken")}::text[], ${column("expiresAt")}::int8[], ${column("scope")}::text[],
                           ${column("tokenType")}::text[], ${column("idToken")}::text[], ${column("nextSweepAt")}::timestamptz[],
                           ${column("used")}::boolean[], ${column("refreshTokenExpiresAt")}::timestamptz[], ${column("reauthBy")}::timestamptz[],
                           ${column("reauthWarnedAt")}::timestamptz[], ${column("warnReauth")}::boolean[],
                           ${writes.map((write) => write.apiBaseUrl ?? null)}::text[])
             AS v(id, owner, access_token, refresh_token, expires_at, scope, token_type, id_token, next_sweep_at, used,
                  refresh_token_expires_at, reauth_by, reauth_warned_at, warn_reauth, api_base_url)),
    -- The rows this writer still holds, as they were: the UPDATE joins it, so it is
    -- read (and locked) before the update, not after (FOR UPDATE skips rows this
    -- same statement already changed).
    before AS (
      SELECT a.id, a."failureCount" FROM "Account" a JOIN v ON a.id = v.id AND a."leaseOwner" = v.owner FOR UPDATE OF a),
    updated AS (
      UPDATE "Account" AS a
         SET access_token = v.access_token,
             refresh_token = v.refresh_token,
             expires_at = v.expires_at,
             scope = COALESCE(v.scope, a.scope),
             token_type = COALESCE(v.token_type, a.token_type),
             id_token = COALESCE(v.id_token, a.id_token),
             "apiBaseUrl" = COALESCE(v.api_base_url, a."apiBaseUrl"),
             "refreshTokenExpiresAt" = v.refresh_token_expires_at,
             "reauthBy" = v.reauth_by,
             "reauthWarnedAt" = v.reauth_warned_at,
             "tokenVersion" = a."tokenVersion" + 1,
             "refreshedAt" = now(),
             "nextSweepAt" = v.next_sweep_at,
             "lastUsedAt" = CASE WHEN v.used THEN now() ELSE a."lastUsedAt" END,
             ${FRESH_TOKENS_STATE}
        FROM v JOIN before b ON b.id = v.id
       WHERE a.id = v.id
      RETURNING a.*),
    unpaused AS (
      DELETE FROM "ProviderPause" WHERE provider IN (SELECT provider FROM updated)),
    events AS (${eventsFrom(
      Prisma.sql`SELECT u.id, u."userId", u.provider, u.status, u."lastError", ${eventTypeSql("refreshed", outbox)} AS type,
                        NULL::jsonb AS extra
                   FROM updated u JOIN before b ON b.id = u.id
                 UNION ALL
                 SELECT u.id, u."userId", u.provider, u.status, u."lastError", 'account.reauth_upcoming',
                        jsonb_build_object('reauthBy', ${isoInstant(Prisma.sql`u."reauthBy"`)})
                   FROM updated u JOIN v ON v.id = u.id
                  WHERE v.warn_reauth`,
      outbox,
    )})
    SELECT ${wantRows ? Prisma.sql`u.*` : Prisma.sql`u.id, u."tokenVersion"`}, (SELECT count(*) FROM events)::int AS events FROM updated u`;
  return {
    versions: new Map(rows.map((row) => [row.id, row.tokenVersion])),
    rows: wantRows ? new Map(rows.map(({ events: _events, ...row }) => [row.id, row])) : new Map(),
    events: rows[0]?.events ?? 0,
  };
}

export type FailureWrite = {
  id: string;
  owner: string;
  error: string;
  retryAfter: Date | null;
  /** Set to stop all refreshing until the user signs in again. */
  reauthRequired: boolean;
  /**
   * The refresh token the provider rotated to in an answer that was otherwise
   * unusable (encrypted), with its expiry: stored, since the old one is spent.
   */
  rotation?: { refreshToken: string; refreshTokenExpiresAt: Date | null };
};

/**
 * Records a failed refresh and frees the lease; the stored tokens stay as they are,
 * but for a rotated refresh token (a new token version then, so a re-encryption in
 * flight cannot put the spent one back). Reports account.reauth_required when the
 * grant just died, and account.refresh_failing when the failures in a row just
 * reached the threshold.
 */
export async function recordFailure(db: Db, { id, owner, error, retryAfter, reauthRequired, rotation }: FailureWrite, outbox: Outbox): Promise<Written> {
  const rotated = rotation !== undefined;
  const [row] = await db.$queryRaw<Written[]>`
    WITH before AS (
      SELECT id, status FROM "Account" WHERE id = ${id} AND "leaseOwner" = ${owner} FOR UPDATE),
    updated AS (
      UPDATE "Account" a
         SET "failureCount" = a."failureCount" + 1,
             "lastError" = ${error},
             "retryAfter" = ${retryAfter},
             status = CASE WHEN ${reauthRequired} THEN 'reauth_required' ELSE a.status END,
             refresh_token = CASE WHEN ${rotated} THEN ${rotation?.refreshToken ?? null}::text ELSE a.refresh_token END,
             "refreshTokenExpiresAt" = CASE WHEN ${rotated} THEN ${rotation?.refreshTokenExpiresAt ?? null}::timestamptz ELSE a."refreshTokenExpiresAt" END,
             "tokenVersion" = a."tokenVersion" + CASE WHEN ${rotated} THEN 1 ELSE 0 END,
             "leaseOwner" = NULL,
             "leaseUntil" = NULL,
             "updatedAt" = now()
        FROM before b
       WHERE a.id = b.id
      RETURNING a.id, a."userId", a.provider, a.status, a."lastError", a."failureCount"),
    events AS (${eventsFrom(
      Prisma.sql`SELECT u.id, u."userId", u.provider, u.status, u."lastError", ${eventTypeSql("failed", outbox)} AS type
                   FROM updated u JOIN before b ON b.id = u.id`,
      outbox,
    )})
    SELECT (SELECT count(*) FROM updated)::int AS written, (SELECT count(*) FROM events)::int AS events`;
  return row!;
}

/**
 * Ends a grant that has nothing to refresh with: the provider's API refused an access
 * token that came without a refresh token (GitHub OAuth Apps' tokens never expire,
 * so a refusal means the user revoked it). Compare-and-set on `tokenVersion`: a
 * sign-in since the refusal brought new tokens, and those stand. Reports
 * account.reauth_required in the same statement.
 */
export async function endGrantWithoutRefreshToken(db: Db, { id, tokenVersion, error }: { id: string; tokenVersion: number; error: string }, outbox: Outbox): Promise<Written> {
  const [row] = await db.$queryRaw<Written[]>`
    WITH updated AS (
      UPDATE "Account"
         SET status = 'reauth_required', "lastError" = ${error}, "failureCount" = "failureCount" + 1, "updatedAt" = now()
       WHERE id = ${id} AND status = 'active' AND refresh_token IS NULL AND "tokenVersion" = ${tokenVersion}
      RETURNING id, "userId", provider, status, "lastError"),
    events AS (${eventsFrom(Prisma.sql`SELECT u.id, u."userId", u.provider, u.status, u."lastError", 'account.reauth_required' AS type FROM updated u`, outbox)})
    SELECT (SELECT count(*) FROM updated)::int AS written, (SELECT count(*) FROM events)::int AS events`;
  return row!;
}

/**
 * Records that a token was handed out, at most once per LAST_USED_GRANULARITY (the
 * condition repeats the caller's check, so concurrent callers write once), and brings
 * the next sweep forward to what an active account gets.
 */
export async function recordUse(db: Db, id: string, nextSweepAt: Date, granularityMs: number): Promise<void> {
  await db.$executeRaw`
    UPDATE "Account"
       SET "lastUsedAt" = now(), "nextSweepAt" = LEAST("nextSweepAt", ${nextSweepAt})
     WHERE id = ${id} AND ("lastUsedAt" IS NULL OR "lastUsedAt" < now() - ${granularityMs} * interval '1 millisecond')`;
}

/** Frees leases still held by their owners (a sweep's skipped rows), in one statement. */
export async function releaseLeases(db: Db, leases: { id: string; owner: string }[]): Promise<void> {
  if (leases.length === 0) return;
  await db.$executeRaw`
    UPDATE "Account" a SET "leaseOwner" = NULL, "leaseUntil" = NULL
      FROM unnest(${leases.map((lease) => lease.id)}::text[], ${leases.map((lease) => lease.owner)}::text[]) AS l(id, owner)
     WHERE a.id = l.id AND a."leaseOwner" = l.owner`;
}
