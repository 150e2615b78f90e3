import "server-only";
import type { Db } from "./client";
import { Prisma, type WebhookDelivery } from "./generated/client";
import { EVENT_RULES, type AccountChange, type Condition } from "../event-rules";

// The webhook outbox. Events are written by the statements that make the change they
// report (lib/db/accounts.ts, lib/db/refresh.ts), in the same statement, so no change is ever reported
// without happening or happens without being reported. These statements send them.

/** Webhooks on: how many failures in a row make an account "refresh_failing". Off: null. */
export type Outbox = { failingAfter: number } | null;

/**
 * The INSERT of one event for each row of `changes` whose `type` is set. `changes`
 * selects id, "userId", provider, status, "lastError" and type, and may select
 * `extra`, a jsonb object of the event's own fields (account.reauth_upcoming's
 * reauthBy). Never a token.
 */
export function eventsFrom(changes: Prisma.Sql, outbox: Outbox): Prisma.Sql {
  // to_jsonb(c) -> 'extra' is NULL where `changes` has no such column (and JSON null
  // where it is NULL): only the statements whose events carry more need to say so.
  return Prisma.sql`
    INSERT INTO "WebhookDelivery" (id, type, payload)
    SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), c.type,
           jsonb_build_object('accountId', c.id, 'userId', c."userId", 'provider', c.provider, 'status', c.status, 'error', c."lastError")
             || CASE WHEN jsonb_typeof(to_jsonb(c) -> 'extra') = 'object' THEN to_jsonb(c) -> 'extra' ELSE '{}'::jsonb END
      FROM (${changes}) c
     WHERE ${outbox !== null} AND c.type IS NOT NULL
    RETURNING id`;
}

/** `condition` (lib/event-rules.ts) over the row before the change (`b`) and after it (`u`). */
function conditionSql(condition: Condition, failingAfter: number): Prisma.Sql {
  if ("becomes" in condition) return Prisma.sql`(u.status = ${condition.becomes}::text AND b.status <> ${condition.becomes}::text)`;
  if ("was" in condition) return Prisma.sql`b.status = ${condition.was}::text`;
  if ("failuresReach" in condition) return Prisma.sql`(u.status = 'active' AND ${failingAfter}::int > 0 AND u."failureCount" = ${failingAfter}::int)`;
  return Prisma.sql`(${failingAfter}::int > 0 AND b."failureCount" >= ${failingAfter}::int)`;
}

/**
 * The event type a `change` raises, as a CASE over `b` (the row before) and `u` (the
 * row after): the rules of lib/event-rules.ts, in their order, NULL when none holds.
 * `b` must select status and "failureCount" where a rule reads them, `u` likewise.
 */
export function eventTypeSql(change: AccountChange, outbox: Outbox): Prisma.Sql {
  const failingAfter = outbox?.failingAfter ?? 0;
  const rules = EVENT_RULES.filter((rule) => rule.change === change);
  const branches = rules.map(
    (rule) =>
      Prisma.sql`WHEN ${Prisma.join(
        rule.when.map((condition) => conditionSql(condition, failingAfter)),
        " OR ",
      )} THEN ${rule.type}::text`,
  );
  return Prisma.sql`CASE ${Prisma.join(branches, " ")} END`;
}

/**
 * Claims up to `limit` deliveries that are due (not delivered, not given up, next
 * attempt reached, no live claim), oldest first; concurrent senders skip each other's.
 */
export function claimDueDeliveries(db: Db, { limit, leaseMs }: { limit: number; leaseMs: number }): Promise<WebhookDelivery[]> {
  return db.$queryRaw<WebhookDelivery[]>`
    WITH claimed AS (
      UPDATE "WebhookDelivery"
         SET "leaseUntil" = now() + ${leaseMs} * interval '1 millisecond'
       WHERE id IN (
         SELECT id FROM "WebhookDelivery"
          WHERE "deliveredAt" IS NULL AND "failedAt" IS NULL
            AND "nextAttemptAt" <= now()
            AND ("leaseUntil" IS NULL OR "leaseUntil" < now())
          ORDER BY "createdAt"
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
      RETURNING *)
    SELECT * FROM claimed ORDER BY "createdAt"`;
}

export type AttemptResult = { id: string; status: number | null; error: string | null; delivered: boolean; nextAttemptAt: Date; giveUp: boolean };

/** Records one attempt: delivered, to be retried at nextAttemptAt, or given up. */
export async function recordAttempt(db: Db, { id, status, error, delivered, nextAttemptAt, giveUp }: AttemptResult): Promise<void> {
  await db.$executeRaw`
    UPDATE "WebhookDelivery"
       SET attempts = attempts + 1,
           "lastStatus" = ${status},
           "lastError" = ${error},
           "deliveredAt" = CASE WHEN ${delivered} THEN now() ELSE NULL END,
           "failedAt" = CASE WHEN ${!delivered && giveUp} THEN now() ELSE NULL END,
           "nextAttemptAt" = ${nextAttemptAt},
           "leaseUntil" = NULL
     WHERE id = ${id}`;
}

/** The newest deliveries, for the operator panel. */
export function recentDeliveries(db: Db, take: number): Promise<WebhookDelivery[]> {
  return db.webhookDelivery.findMany({ orderBy: { createdAt: "desc" }, take });
}
