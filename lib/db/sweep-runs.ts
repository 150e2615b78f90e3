import "server-only";
import type { Db } from "./client";
import type { SweepRun } from "./generated/client";

// The sweep's own record (one row per run) and the operator panel's counts.

export type SweepCounts = Pick<SweepRun, "claimed" | "refreshed" | "failed" | "reauthRequired" | "skipped">;

/**
 * A run starts as a row with no finishedAt: a run killed midway stays visible as such.
 * Its start is the database's now(), the clock that stamps what the run writes
 * (Account."updatedAt"), so "written since the run started" holds whatever the app's
 * clock says (Prisma would stamp @default(now()) with the app's).
 */
export async function startSweepRun(db: Db): Promise<Pick<SweepRun, "id" | "startedAt">> {
  const [run] = await db.$queryRaw<Pick<SweepRun, "id" | "startedAt">[]>`
    INSERT INTO "SweepRun" (id, "startedAt") VALUES (gen_random_uuid()::text, now()) RETURNING id, "startedAt"`;
  return run!;
}

/** A run's end, by the database's now() as its start (startSweepRun): never before it. */
export async function finishSweepRun(
  db: Db,
  id: string,
  { claimed, refreshed, failed, reauthRequired, skipped, durationMs, error }: SweepCounts & { durationMs: number; error: string | null },
): Promise<void> {
  await db.$executeRaw`
    UPDATE "SweepRun"
       SET claimed = ${claimed}, refreshed = ${refreshed}, failed = ${failed}, "reauthRequired" = ${reauthRequired}, skipped = ${skipped},
           "durationMs" = ${durationMs}, error = ${error}, "finishedAt" = now()
     WHERE id = ${id}`;
}

export function recentSweepRuns(db: Db, take: number): Promise<SweepRun[]> {
  return db.sweepRun.findMany({ orderBy: { startedAt: "desc" }, take });
}

/** Active accounts whose access token expires before the epoch second `before`. */
export function countActiveExpiringBefore(db: Db, before: number): Promise<number> {
  return db.account.count({ where: { status: "active", expires_at: { lt: before } } });
}
