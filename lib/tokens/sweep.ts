import "server-only";
import { claimDueAccounts, releaseLease, type AccountRow } from "../db/accounts";
import type { Db } from "../db/client";
import { ProviderUnavailableError, ReauthRequiredError } from "../errors";
import { logger } from "../log";
import { batchingWriter } from "./batch-writer";
import type { TokenEngine } from "./engine";

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
  /** Refresh access tokens expiring within this many seconds (default: two 10-minute cron intervals). */
  horizonSeconds?: number;
  /** Also refresh accounts not refreshed for this many days, so idle refresh tokens stay alive. */
  idleDays?: number;
  batchSize?: number;
  /** Refreshes in flight at once, per provider. */
  concurrency?: number;
  /** Stop claiming (and skip what is left) after this long; below the function's maxDuration. */
  budgetMs?: number;
  leaseMs?: number;
  now?: () => Date;
};

const PAUSE_AFTER = 3;

/** A tiny semaphore: at most `limit` tasks run at once; drained() waits for an empty queue. */
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
  const run = async (task: () => Promise<void>): Promise<void> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    start();
    try {
      await task();
    } finally {
      active -= 1;
      waiting.shift()?.();
    }
  };
  const drained = () => (waiting.length === 0 ? Promise.resolve() : new Promise<void>((resolve) => onDrained.push(resolve)));
  return Object.assign(run, { drained });
}

/**
 * Claims batches of due accounts (one statement each, SKIP LOCKED, the same lease as
 * on-demand refreshes) and refreshes them through the engine's one refresh path.
 * Safe to run twice at once or to kill midway: an account is claimed by one sweep,
 * and a killed sweep's leases simply expire.
 */
export async function sweepExpiringTokens(options: SweepOptions): Promise<SweepReport> {
  const { db, engine } = options;
  const now = options.now ?? (() => new Date());
  const horizonSeconds = options.horizonSeconds ?? 20 * 60;
  const idleDays = options.idleDays ?? 7;
  const batchSize = options.batchSize ?? 50;
  const concurrency = options.concurrency ?? 8;
  const budgetMs = options.budgetMs ?? 45_000;
  const leaseMs = options.leaseMs ?? 60_000;
  const started = Date.now();
  const startedAt = new Date(started);
  const deadline = started + budgetMs;
  const report: SweepReport = { claimed: 0, refreshed: 0, failed: 0, reauthRequired: 0, skipped: 0, durationMs: 0 };
  const run = await db.sweepRun.create({ data: {} });
  const writer = batchingWriter(db);
  const limits = new Map<string, ReturnType<typeof limiter>>();
  // A provider is left alone until then after a 429 (its rate limit is for the whole
  // client) or after PAUSE_AFTER 5xx/timeouts in a row (an outage, not one bad account).
  const pausedUntil = new Map<string, number>();
  const unavailableInARow = new Map<string, number>();
  let failure: unknown;

  const refreshOne = async (row: AccountRow, owner: string) => {
    if (Date.now() >= deadline || (pausedUntil.get(row.provider) ?? 0) > Date.now()) {
      report.skipped += 1;
      await releaseLease(db, row.id, owner);
      return;
    }
    try {
      await engine.refreshClaimed(row, owner, writer);
      report.refreshed += 1;
      unavailableInARow.set(row.provider, 0);
    } catch (error) {
      if (error instanceof ReauthRequiredError) report.reauthRequired += 1;
      else report.failed += 1;
      if (error instanceof ProviderUnavailableError) {
        const inARow = (unavailableInARow.get(row.provider) ?? 0) + 1;
        unavailableInARow.set(row.provider, inARow);
        if (inARow >= PAUSE_AFTER || error.providerStatus === 429) {
          pausedUntil.set(row.provider, error.retryAfter?.getTime() ?? Date.now() + 1000);
        }
      }
    }
  };

  const tasks: Promise<void>[] = [];
  try {
    while (Date.now() < deadline) {
      const owner = engine.newOwner();
      const at = now();
      const batch = await claimDueAccounts(db, {
        owner,
        providers: engine.providerIds(),
        leaseMs,
        limit: batchSize,
        expiresBefore: Math.floor(at.getTime() / 1000) + horizonSeconds,
        idleSince: new Date(at.getTime() - idleDays * 86_400_000),
        // A token whose lifetime is shorter than the horizon is due again right
        // after its refresh; it waits for the next run.
        notRefreshedSince: startedAt,
      });
      report.claimed += batch.length;
      for (const row of batch) {
        let limit = limits.get(row.provider);
        if (!limit) limits.set(row.provider, (limit = limiter(concurrency)));
        tasks.push(limit(() => refreshOne(row, owner)).catch((error: unknown) => void (failure ??= error)));
      }
      if (batch.length < batchSize) break;
      // Claim more once every claimed account has started: refreshes overlap batch
      // boundaries, and a claimed account never waits long under its lease.
      await Promise.all([...limits.values()].map((limit) => limit.drained()));
    }
  } catch (error) {
    failure = error;
  }
  await Promise.all(tasks);
  report.durationMs = Date.now() - started;
  await db.sweepRun.update({
    where: { id: run.id },
    data: { ...report, finishedAt: new Date(), error: failure ? String((failure as Error).message ?? failure) : null },
  });
  log.info("sweep.done", { ...report, writeStatements: writer.statements(), error: failure ? (failure as Error).message : undefined });
  if (failure) throw failure;
  return report;
}
