import "server-only";
import type { Db } from "./client";
import type { Written } from "./account-row";
import type { ProviderPause } from "./generated/client";
import { Prisma } from "./generated/client";
import { eventsFrom, type Outbox } from "./outbox";
import { isoInstant } from "./refresh";

// Providers whose token endpoint refused the app's own client credentials
// (invalid_client, unauthorized_client): the sweep leaves them alone until
// pausedUntil, in every run and worker, and operators see them on the dashboard. A
// refresh that works again lifts the pause (writeTokens deletes the row).

export type PauseWrite = {
  provider: string;
  /** The account whose refresh met the refusal, and its lease (freed; the account is not marked). */
  accountId: string;
  owner: string;
  error: string;
  pausedUntil: Date;
};

/**
 * Pauses a provider and frees the account's lease, leaving the account as it was
 * (not its fault). Writes provider.misconfigured when the provider was not paused
 * already (no row: the first refusal since the credentials last worked), with
 * `pausedUntil`; a pause that ran out and met the refusal again is extended quietly.
 */
export async function pauseProvider(db: Db, { provider, accountId, owner, error, pausedUntil }: PauseWrite, outbox: Outbox): Promise<Written> {
  const [row] = await db.$queryRaw<Written[]>`
    WITH released AS (
      -- "updatedAt" too: a sweep run does not claim a row written since it started.
      UPDATE "Account" SET "leaseOwner" = NULL, "leaseUntil" = NULL, "updatedAt" = now()
       WHERE id = ${accountId} AND "leaseOwner" = ${owner}
      RETURNING id, "userId", provider, status),
    before AS (
      SELECT provider FROM "ProviderPause" WHERE provider = ${provider}),
    paused AS (
      INSERT INTO "ProviderPause" (provider, error, "pausedUntil") VALUES (${provider}, ${error}, ${pausedUntil})
      ON CONFLICT (provider) DO UPDATE SET error = EXCLUDED.error, "pausedUntil" = EXCLUDED."pausedUntil"
      RETURNING provider, error, "pausedUntil"),
    events AS (${eventsFrom(
      Prisma.sql`SELECT r.id, r."userId", p.provider, r.status, p.error AS "lastError",
                        CASE WHEN NOT EXISTS (SELECT 1 FROM before) THEN 'provider.misconfigured' END AS type,
                        jsonb_build_object('pausedUntil', ${isoInstant(Prisma.sql`p."pausedUntil"`)}) AS extra
                   FROM paused p LEFT JOIN released r ON true`,
      outbox,
    )})
    SELECT (SELECT count(*) FROM released)::int AS written, (SELECT count(*) FROM events)::int AS events`;
  return row!;
}

/** The providers the sweep leaves alone now. */
export async function pausedProviders(db: Db): Promise<Set<string>> {
  const rows = await db.providerPause.findMany({ where: { pausedUntil: { gt: new Date() } }, select: { provider: true } });
  return new Set(rows.map((row) => row.provider));
}

/** Every provider whose credentials were refused since they last worked, for the operator panel. */
export function providerPauses(db: Db): Promise<ProviderPause[]> {
  return db.providerPause.findMany({ orderBy: { pausedAt: "desc" } });
}
