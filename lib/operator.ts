import "server-only";
import { recentTokenAudits } from "./db/api-keys";
import { recentDeliveries } from "./db/outbox";
import { providerPauses } from "./db/provider-pauses";
import { countActiveExpiringBefore, recentSweepRuns } from "./db/sweep-runs";
import { tokenkeeper } from "./tokenkeeper";

export type OperatorPanel = {
  runs: {
    id: string;
    startedAt: string;
    finishedAt: string | null;
    claimed: number;
    refreshed: number;
    failed: number;
    reauthRequired: number;
    skipped: number;
    durationMs: number | null;
    error: string | null;
  }[];
  expiringWithinHour: number;
  /** Providers whose token endpoint refused the app's client credentials since they last worked: the sweep leaves them alone. */
  misconfiguredProviders: { provider: string; error: string; pausedAt: string; pausedUntil: string }[];
  /** Whether TOKENKEEPER_WEBHOOK_URL is set. */
  webhooksOn: boolean;
  /** The newest webhook deliveries: event, where it stands, attempts. */
  deliveries: { id: string; type: string; createdAt: string; state: "delivered" | "retrying" | "given up"; attempts: number; lastStatus: number | null; lastError: string | null }[];
  /** The newest access tokens handed to services (/api/v1): which key, which account, when, why. */
  tokenAudits: { createdAt: string; keyName: string; accountId: string; provider: string | null; refreshed: boolean; minTtl: number; purpose: string | null }[];
};

/** Is this signed-in user one of TOKENKEEPER_OPERATOR_EMAILS? */
export function isOperator(email: string | null | undefined): boolean {
  return Boolean(email) && tokenkeeper().config.TOKENKEEPER_OPERATOR_EMAILS.includes(email!.toLowerCase());
}

/** The last sweep runs and how many active tokens expire within the hour (operators only: callers check isOperator). */
export async function operatorPanel(now = new Date()): Promise<OperatorPanel> {
  const { db, events } = tokenkeeper();
  const [runs, expiringWithinHour, deliveries, pauses, tokenAudits] = await Promise.all([
    recentSweepRuns(db, 5),
    countActiveExpiringBefore(db, Math.floor(now.getTime() / 1000) + 3600),
    recentDeliveries(db, 10),
    providerPauses(db),
    recentTokenAudits(db, 10),
  ]);
  return {
    runs: runs.map((run) => ({
      id: run.id,
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
    misconfiguredProviders: pauses.map((pause) => ({ provider: pause.provider, error: pause.error, pausedAt: pause.pausedAt.toISOString(), pausedUntil: pause.pausedUntil.toISOString() })),
    webhooksOn: events.webhook !== null,
    deliveries: deliveries.map((delivery) => ({
      id: delivery.id,
      type: delivery.type,
      createdAt: delivery.createdAt.toISOString(),
      state: delivery.deliveredAt ? "delivered" : delivery.failedAt ? "given up" : "retrying",
      attempts: delivery.attempts,
      lastStatus: delivery.lastStatus,
      lastError: delivery.lastError,
    })),
    tokenAudits: tokenAudits.map(({ createdAt, keyName, accountId, provider, refreshed, minTtl, purpose }) => ({
      createdAt: createdAt.toISOString(),
      keyName,
      accountId,
      provider,
      refreshed,
      minTtl,
      purpose,
    })),
  };
}
