import "server-only";
import { db } from "./db/client";
import { countActiveExpiringBefore, recentSweepRuns } from "./db/sweep-runs";

export type OperatorPanel = {
  runs: { startedAt: string; finishedAt: string | null; claimed: number; refreshed: number; failed: number; reauthRequired: number; skipped: number; durationMs: number | null; error: string | null }[];
  expiringWithinHour: number;
};

/** The last sweep runs and how many active tokens expire within the hour. */
export async function operatorPanel(now = new Date()): Promise<OperatorPanel> {
  const [runs, expiringWithinHour] = await Promise.all([
    recentSweepRuns(db(), 5),
    countActiveExpiringBefore(db(), Math.floor(now.getTime() / 1000) + 3600),
  ]);
  return {
    runs: runs.map((run) => ({
      startedAt: run.startedAt.toISOString(),
      finishedAt: run.finishedAt?.toISOString() ?? null,
      claimed: run.claimed,
      refreshed: run.refreshed,
      failed: run.failed,
      reauthRequired: run.reauthRequired,
      skipped: run.skipped,
      durationMs: run.durationMs,
      error: run.error,
    })),
    expiringWithinHour,
  };
}
