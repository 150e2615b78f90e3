import "server-only";
import { afterResponse } from "./background";
import { countDueAccounts } from "./db/refresh";
import { tokenkeeper } from "./tokenkeeper";
import { startWorkers } from "./tokens/fan-out";
import { sweepExpiringTokens, type SweepReport } from "./tokens/sweep";
import { policyFromQuery, workersFor } from "./tokens/sweep-policy";
import { deliverDueWebhooks, type DeliveryReport } from "./webhooks";

// What the cron routes run (app/api/cron/*: each names one of these). The sweep's
// policy is the app's one value (Tokenkeeper.sweepPolicy) with the run's query applied.

/**
 * The scheduled sweep: counts the backlog, starts workers when one run cannot finish
 * it (each its own invocation of the worker route, with the same query), then sweeps.
 * 400 for a malformed query (?budgetMs, ?batchSize, ?concurrency).
 */
export async function scheduledSweep(url: URL, cronSecret: string): Promise<SweepReport & { backlog: number; workers: number }> {
  const { db, engine, sweepPolicy } = tokenkeeper();
  const policy = policyFromQuery(url.searchParams, sweepPolicy);
  // More due than one run finishes in its budget: more runs, each its own invocation.
  const backlog = await countDueAccounts(db, { providers: engine.providerIds(), cap: policy.runCapacity * (policy.maxWorkers + 1) });
  const workers = await startWorkers(url.origin, cronSecret, workersFor(policy, backlog), url.search);
  const report = await sweepExpiringTokens({ db, engine, policy });
  return { ...report, backlog, workers };
}

/** One more sweep run, after the response (the worker route answers 202 at once). 400 for a malformed query. */
export function workerSweep(url: URL): void {
  const { db, engine, sweepPolicy } = tokenkeeper();
  const policy = policyFromQuery(url.searchParams, sweepPolicy);
  afterResponse("worker.crashed", () => sweepExpiringTokens({ db, engine, policy, role: "worker" }));
}

/** Webhook deliveries whose retry is due (at most 500 a run); nothing without a receiver. */
export async function dueWebhookDeliveries(): Promise<DeliveryReport> {
  const { db, events } = tokenkeeper();
  if (!events.webhook) return { attempted: 0, delivered: 0, failed: 0, gaveUp: 0 };
  return deliverDueWebhooks(db, events.webhook, { limit: 500 });
}
