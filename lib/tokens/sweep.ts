import "server-only";
import type { AccountRow } from "../db/account-row";
import { claimDueAccounts, releaseLeases } from "../db/refresh";
import type { Db } from "../db/client";
import { pausedProviders } from "../db/provider-pauses";
import { finishSweepRun, startSweepRun } from "../db/sweep-runs";
import { ReauthRequiredError, AppError } from "../errors";
import { logger } from "../log";
import { inSpan } from "../telemetry";
import { RefreshSkipped, type TokenEngine } from "./engine";
import { pauseAfterFailure, type ProviderRun, type SweepPolicy } from "./sweep-policy";

const log = logger("sweep");

export type SweepReport = {
  claimed: number;
  refreshed: number;
  failed: number;
  reauthRequired: number;
  skipped: number;
  durationMs: number;
};

export type SweepOptions = {
  db: Db;
  engine: TokenEngine;
  /** The run's policy: the app's (Tokenkeeper.sweepPolicy), with the cron's query applied. */
  policy: SweepPolicy;
  /** A run the cron started (coordinator), or one of the workers it fanned out to. */
  role?: "coordinator" | "worker";
};

/**
 * A tiny semaphore: at most `limit` tasks hold a slot at once; a task may hand its
 * slot back early (release) and go on without it. drained() waits for an empty queue.
 */
function limiter(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  let onDrained: (() => void)[] = [];
  const start = () => {
    active += 1;
    if (waiting.length === 0) {
      for (const resolve of onDrained) resolve();
      onDrained = [];
    }
  };
  const run = async <T>(task: (release: () => void) => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    start();
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      active -= 1;
      waiting.shift()?.();
    };
    try {
      return await task(release);
    } finally {
      release();
    }
  };
  const drained = () => (waiting.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => onDrained.push(resolve)));
  return Object.assign(run, { drained });
}

/**
 * Claims batches of due accounts (one statement each, SKIP LOCKED, the same lease as
 * on-demand refreshes) and refreshes them through the engine's one refresh path.
 * Safe to run twice at once or to kill midway: an account is claimed by one sweep,
 * and a killed sweep's leases simply expire. Within a run an account is claimed at
 * most once, and a paused provider's accounts are not claimed at all.
 */
export function sweepExpiringTokens(options: SweepOptions): Promise<SweepReport> {
  return inSpan("tokenkeeper.sweep", { "tokenkeeper.role": options.role ?? "coordinator" }, async (span) => {
    const report = await sweep(options);
    span.setAttributes(Object.fromEntries(Object.entries(report).map(([key, value]) => [`tokenkeeper.sweep.${key}`, value])));
    return report;
  });
}

async function sweep(options: SweepOptions): Promise<SweepReport> {
  const { db, policy } = options;
  const engine = options.engine.forSweep();
  const started = Date.now();
  const deadline = started + policy.budgetMs;
  const report: SweepReport = { claimed: 0, refreshed: 0, failed: 0, reauthRequired: 0, skipped: 0, durationMs: 0 };
  const { id: runId, startedAt } = await startSweepRun(db);
  const limits = new Map<string, ReturnType<typeof limiter>>();
  const providerRuns = new Map<string, ProviderRun>();
  const pausedUntil = new Map<string, number>();
  let failure: unknown;
  const keepFirstFailure = (error: unknown) => {
    failure ??= error;
  };
  // Providers whose credentials were refused (by this run or another): left alone for the whole run.
  for (const provider of await pausedProviders(db)) pausedUntil.set(provider, Infinity);

  const isPaused = (provider: string) => (pausedUntil.get(provider) ?? 0) > Date.now();
  const providerRun = (provider: string) => {
    let run = providerRuns.get(provider);
    if (!run) {
      run = { unavailableInARow: 0 };
      providerRuns.set(provider, run);
    }
    return run;
  };

  const skipped: { id: string; owner: string }[] = [];
  const refreshOne = async (row: AccountRow, owner: string, release: () => void) => {
    const run = providerRun(row.provider);
    // The slot bounds calls to the provider: it is handed back when the call settles,
    // so encrypting and storing the answer do not hold the next refresh back. The
    // budget and a pause are checked as the call would start (proceed), and a pause is
    // decided before the slot is handed on.
    const proceed = () => Date.now() < deadline && !isPaused(row.provider);
    const providerSlot = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        const answer = await call();
        run.unavailableInARow = 0;
        return answer;
      } catch (error) {
        if (error instanceof AppError) {
          if (error.code === "provider_unavailable") run.unavailableInARow += 1;
          const until = pauseAfterFailure(policy, run, error, Date.now());
          if (until !== undefined) pausedUntil.set(row.provider, until);
        }
        throw error;
      } finally {
        release();
      }
    };
    try {
      await engine.refresh(row, owner, { policy, providerSlot, proceed });
      report.refreshed += 1;
    } catch (error) {
      if (error instanceof RefreshSkipped) {
        report.skipped += 1;
        skipped.push({ id: row.id, owner });
      } else if (error instanceof ReauthRequiredError) report.reauthRequired += 1;
      else report.failed += 1;
    }
  };

  const tasks: Promise<void>[] = [];
  try {
    while (Date.now() < deadline) {
      const providers = engine.providerIds().filter((provider) => !isPaused(provider));
      if (providers.length === 0) break;
      const owner = engine.newOwner();
      const batch = await claimDueAccounts(db, {
        owner,
        providers,
        leaseMs: policy.leaseMs,
        limit: policy.batchSize,
        notWrittenSince: startedAt,
        undecryptableMarker: engine.undecryptableMarker,
      });
      report.claimed += batch.length;
      for (const row of batch) {
        let limit = limits.get(row.provider);
        if (!limit) {
          limit = limiter(policy.concurrency);
          limits.set(row.provider, limit);
        }
        tasks.push(limit((release) => refreshOne(row, owner, release)).catch(keepFirstFailure));
      }
      if (batch.length < policy.batchSize) break;
      // Claim more once every claimed account has started: refreshes overlap batch
      // boundaries, and a claimed account never waits long under its lease.
      await Promise.all([...limits.values()].map((limit) => limit.drained()));
    }
  } catch (error) {
    failure = error;
  }
  await Promise.all(tasks);
  // What the budget or a pause left: free for the next run (or a caller) in one statement.
  await releaseLeases(db, skipped).catch(keepFirstFailure);
  report.durationMs = Date.now() - started;
  const message = failure ? String((failure as Error).message ?? failure) : null;
  await finishSweepRun(db, runId, { ...report, error: message });
  log.info("sweep.done", { ...report, writeStatements: engine.writeStatements(), error: message ?? undefined });
  if (failure) throw failure;
  return report;
}
