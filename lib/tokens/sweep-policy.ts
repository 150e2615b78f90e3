import { z } from "zod";
import type { AppError } from "../errors";
import { decimalInteger, parseParams } from "../params";

// What the sweep refreshes and when it leaves a provider alone: the policy, with
// every knob in one place. lib/tokens/sweep.ts is the mechanism (claims, limits,
// the time budget) and asks only these functions; every token write stores
// nextSweepAt() on the row, so the sweep's claim is one index range.
//
// Work follows use. An account whose token was handed out within activeDays is
// refreshed horizonSeconds before its token expires, so background jobs find a fresh
// token (a token living less than that at 80 % of its life). Any other account is
// refreshed only to keep its refresh token alive: before keepaliveDays have passed
// since its last refresh (Google drops refresh tokens unused for 6 months, Microsoft
// after 90 days, many identity providers after a 7-day idle window), and before the
// refresh token's own expiry when the provider said it. "Before" means one cron
// interval plus the horizon ahead, since the cron reaches a due account up to one
// interval late. Trade-offs: a shorter activeDays saves provider calls but leaves the
// first call of a returning user to refresh on demand (one provider round trip,
// ~100 ms); a longer keepaliveDays saves calls but comes closer to the providers'
// limits. Tokens are always refreshed on demand anyway.

export type SweepPolicy = {
  /** Refresh access tokens of active accounts this many seconds before they expire (two 10-minute cron intervals). */
  horizonSeconds: number;
  /** An account is active while its token was handed out within this many days (TOKEN_SWEEP_ACTIVE_DAYS). */
  activeDays: number;
  /** Refresh every other account before this many days have passed since its last refresh (TOKEN_SWEEP_KEEPALIVE_DAYS). */
  keepaliveDays: number;
  /** How often the cron runs the sweep, in seconds (TOKEN_SWEEP_INTERVAL_SECONDS; vercel.json says every 10 minutes). */
  intervalSeconds: number;
  /** Send account.reauth_upcoming this many days before a grant's absolute end (TOKENKEEPER_REAUTH_WARNING_DAYS). */
  reauthWarningDays: number;
  /** Accounts claimed per statement. */
  batchSize: number;
  /** Refreshes in flight at once, per provider. */
  concurrency: number;
  /** Stop claiming (and skip what is left) after this long; below the function's maxDuration. */
  budgetMs: number;
  /** How long a sweep's lease on a claimed account lasts. */
  leaseMs: number;
  /** Pause a provider after this many 5xx/timeouts in a row (an outage, not one bad account). */
  pauseAfterUnavailable: number;
  /** Pause after a 429 or an outage that named no Retry-After. */
  defaultPauseMs: number;
  /** Leave a provider that refused the app's credentials alone this long (persisted: every run and worker). */
  misconfiguredPauseMs: number;
  /** Accounts one run is expected to refresh within its budget (TOKEN_SWEEP_RUN_CAPACITY). */
  runCapacity: number;
  /** At most this many worker invocations beside the cron's own run (TOKEN_SWEEP_MAX_WORKERS). */
  maxWorkers: number;
};

export const DEFAULT_SWEEP_POLICY: SweepPolicy = {
  horizonSeconds: 20 * 60,
  activeDays: 7,
  keepaliveDays: 7,
  intervalSeconds: 600,
  reauthWarningDays: 7,
  batchSize: 50,
  concurrency: 8,
  budgetMs: 45_000,
  leaseMs: 60_000,
  pauseAfterUnavailable: 3,
  defaultPauseMs: 1_000,
  misconfiguredPauseMs: 15 * 60 * 1000,
  // 8 refreshes in flight for 45 s at ~300 ms each, with room to spare.
  runCapacity: 1_000,
  maxWorkers: 4,
};

/**
 * How many workers to start beside the cron's own run: none while one run can finish
 * the backlog, else one per further run's worth, at most maxWorkers. Vercel runs
 * each as its own invocation; they share the backlog through SKIP LOCKED claims.
 */
export function workersFor(policy: SweepPolicy, backlog: number): number {
  if (backlog <= policy.runCapacity) return 0;
  return Math.min(policy.maxWorkers, Math.ceil(backlog / policy.runCapacity) - 1);
}

/** lastUsedAt is written at most this often per account: one write an hour, not one per call. */
export const LAST_USED_GRANULARITY_MS = 60 * 60 * 1000;

const DAY_MS = 86_400_000;

export type SweepSchedule = {
  /** When a token of this account was last handed out. */
  lastUsedAt: Date | null;
  /** When its access token expires (null: no expiry given). */
  expiresAt: Date | null;
  /** When its tokens were last written. */
  refreshedAt: Date;
  /** When its refresh token dies, where the provider said. */
  refreshTokenExpiresAt?: Date | null;
  /** When account.reauth_upcoming is due and not yet written (lib/tokens/grant-end.ts). */
  reauthWarningAt?: Date | null;
};

/** A token living less than the horizon is refreshed at this fraction of its life. */
export const SHORT_TOKEN_REFRESH_AT = 0.8;

/**
 * When the sweep should next refresh an account, as of `now`: the earliest of
 * - while it is active: horizonSeconds before its access token expires, but for a
 *   token shorter-lived than that at 80 % of its life;
 * - the keep-alive: one cron interval plus the horizon before keepaliveDays have
 *   passed since the last refresh (the cron is up to one interval late), and as
 *   long before its refresh token's known expiry;
 * - when account.reauth_upcoming is due;
 * and never sooner than half a cron interval after the last refresh: at most one
 * refresh per cron tick, however short-lived the token.
 */
export function nextSweepAt(policy: SweepPolicy, schedule: SweepSchedule, now: Date): Date {
  const { lastUsedAt, expiresAt, refreshedAt, refreshTokenExpiresAt, reauthWarningAt } = schedule;
  const refreshed = refreshedAt.getTime();
  const horizon = policy.horizonSeconds * 1000;
  const ahead = policy.intervalSeconds * 1000 + horizon;
  const candidates = [refreshed + policy.keepaliveDays * DAY_MS - ahead];
  if (refreshTokenExpiresAt) candidates.push(refreshTokenExpiresAt.getTime() - ahead);
  if (reauthWarningAt) candidates.push(reauthWarningAt.getTime());
  const active = lastUsedAt !== null && lastUsedAt.getTime() >= now.getTime() - policy.activeDays * DAY_MS;
  if (active && expiresAt !== null) {
    const life = expiresAt.getTime() - refreshed;
    candidates.push(Math.max(expiresAt.getTime() - horizon, refreshed + SHORT_TOKEN_REFRESH_AT * Math.min(life, horizon)));
  }
  return new Date(Math.max(Math.min(...candidates), refreshed + (policy.intervalSeconds * 1000) / 2));
}

/** Whether handing out a token now should record the use (off the response path). */
export function shouldRecordUse(lastUsedAt: Date | null, now: Date): boolean {
  return lastUsedAt === null || now.getTime() - lastUsedAt.getTime() >= LAST_USED_GRANULARITY_MS;
}

/** A provider's run so far: how many unavailable answers in a row. */
export type ProviderRun = { unavailableInARow: number };

/**
 * After a failed refresh: until when the whole provider is left alone, or
 * undefined to go on. A 429 is about the client, not the account, so one pauses
 * the provider at once; 5xx and timeouts do after `pauseAfterUnavailable` in a row;
 * refused client credentials at once for misconfiguredPauseMs.
 */
export function pauseAfterFailure(policy: SweepPolicy, run: ProviderRun, error: AppError, now: number): number | undefined {
  // The app's credentials are refused: no account of this provider can refresh.
  if (error.code === "provider_misconfigured") return now + policy.misconfiguredPauseMs;
  if (error.code !== "provider_unavailable") return undefined;
  if (error.providerStatus !== 429 && run.unavailableInARow < policy.pauseAfterUnavailable) return undefined;
  return error.retryAfter?.getTime() ?? now + policy.defaultPauseMs;
}

// What the cron route lets a caller (holding CRON_SECRET) change for one run, e.g.
// a smaller budget when running it by hand. Bounded so no request can make a run
// outlive its function or hammer a provider.
const overridesSchema = z.strictObject({
  batchSize: decimalInteger(1, 500).optional(),
  concurrency: decimalInteger(1, 64).optional(),
  budgetMs: decimalInteger(100, DEFAULT_SWEEP_POLICY.budgetMs).optional(),
});

/** The policy with the TOKEN_SWEEP_* settings applied. */
export function sweepPolicyFrom(settings: Partial<Pick<SweepPolicy, "activeDays" | "keepaliveDays" | "intervalSeconds" | "reauthWarningDays" | "runCapacity" | "maxWorkers">>): SweepPolicy {
  return { ...DEFAULT_SWEEP_POLICY, ...settings };
}

/** The policy for one run from the route's query string; 400 invalid_request names a bad parameter. */
export function policyFromQuery(params: URLSearchParams, base: SweepPolicy = DEFAULT_SWEEP_POLICY): SweepPolicy {
  const parsed = parseParams(overridesSchema, Object.fromEntries(params), "query");
  const overrides = Object.fromEntries(Object.entries(parsed).filter(([, value]) => value !== undefined));
  return { ...base, ...overrides };
}
