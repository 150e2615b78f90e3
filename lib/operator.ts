import "server-only";
import { db } from "./db/client";
import { countActiveExpiringBefore, recentSweepRuns } from "./db/sweep-runs";
import { env } from "./env";

export type OperatorPanel = {
  runs: { startedAt: string; finishedAt: string | null; claimed: number; refreshed: number; failed: number; reauthRequired: number; skipped: number; durationMs: number | null; error: string | null }[];
  expiringWithinHour: number;
};

/** Is this signed-in user one of TOKENKEEPER_OPERATOR_EMAILS? */
export function isOperator(email: string | null | undefined): boolean {
  return Boolean(email) && env().TOKENKEEPER_OPERATOR_EMAILS.includes(email!.toLowerCase());
}

/** The last sweep runs and how many active tokens expire within the hour (operators only: callers check isOperator). */
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
