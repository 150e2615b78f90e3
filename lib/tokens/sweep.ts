import "server-only";
import type { AccountRow } from "../db/accounts";
import { claimDueAccounts, releaseLeases } from "../db/refresh";
import type { Db } from "../db/client";
import { pausedProviders } from "../db/provider-pauses";
import { finishSweepRun, startSweepRun } from "../db/sweep-runs";
import { ReauthRequiredError, TokenError } from "../errors";
import { logger } from "../log";
import { inSpan } from "../telemetry";
import { batchingWriter } from "./batch-writer";
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

export type SweepOptions = Partial<SweepPolicy> & {
  db: Db;
  engine: TokenEngine;
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
  const { db, engine, role: _role, ...overrides } = options;
  const policy: SweepPolicy = { ...engine.sweepPolicy, ...definedOnly(overrides) };
  const started = Date.now();
  const startedAt = new Date(started);
  const deadline = started + policy.budgetMs;
  const report: SweepReport = { claimed: 0, refreshed: 0, failed: 0, reauthRequired: 0, skipped: 0, durationMs: 0 };
  const runId = await startSweepRun(db);
  const writer = batchingWriter(db, { outbox: engine.outbox, onEvents: engine.onEvents });
  const limits = new Map<string, ReturnType<typeof limiter>>();
  const providerRuns = new Map<string, ProviderRun>();
  const pausedUntil = new Map<string, number>();
  let failure: unknown;
  // Providers whose credentials were refused (by this run or another): left alone for the whole run.
  for (const provider of await pausedProviders(db)) pausedUntil.set(provider, Infinity);

  const isPaused = (provider: string) => (pausedUntil.get(provider) ?? 0) > Date.now();
  const providerRun = (provider: string) => {
    let run = providerRuns.get(provider);
    if (!run) providerRuns.set(provider, (run = { unavailableInARow: 0 }));
    return run;
  };

  const skipped: { id: string; owner: string }[] = [];
  const refreshOne = async (row: AccountRow, owner: string, release: () => void) => {
    const run = providerRun(row.provider);
    // The slot bounds calls to the provider: it is handed back when the call settles,
    // so encrypting and storing the answer do not hold the next refresh back. The
    // budget and a pause are checked as the call would start, and a pause is decided
    // before the slot is handed on.
    const providerSlot = async <T>(call: () => Promise<T>): Promise<T> => {
      try {
        if (Date.now() >= deadline || isPaused(row.provider)) throw new RefreshSkipped("the budget is spent or the provider paused");
        const answer = await call();
        run.unavailableInARow = 0;
        return answer;
      } catch (error) {
        if (error instanceof TokenError) {
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
      await engine.refreshClaimed(row, owner, writer, { policy, providerSlot });
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
        if (!limit) limits.set(row.provider, (limit = limiter(policy.concurrency)));
        tasks.push(limit((release) => refreshOne(row, owner, release)).catch((error: unknown) => void (failure ??= error)));
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
  await releaseLeases(db, skipped).catch((error: unknown) => void (failure ??= error));
  report.durationMs = Date.now() - started;
  const message = failure ? String((failure as Error).message ?? failure) : null;
  await finishSweepRun(db, runId, { ...report, error: message });
  log.info("sweep.done", { ...report, writeStatements: writer.statements(), error: message ?? undefined });
  if (failure) throw failure;
  return report;
}

const definedOnly = <T extends object>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
