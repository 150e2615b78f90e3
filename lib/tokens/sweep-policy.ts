import { z } from "zod";
import { badRequest, TokenError } from "../errors";

// What the sweep refreshes and when it leaves a provider alone: the policy, with
// every knob in one place. lib/tokens/sweep.ts is the mechanism (claims, limits,
// the time budget) and asks only these functions.

export type SweepPolicy = {
  /** Refresh access tokens expiring within this many seconds (two 10-minute cron intervals). */
  horizonSeconds: number;
  /** Also refresh accounts not refreshed for this many days, so idle refresh tokens stay alive. */
  idleDays: number;
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
};

export const DEFAULT_SWEEP_POLICY: SweepPolicy = {
  horizonSeconds: 20 * 60,
  idleDays: 7,
  batchSize: 50,
  concurrency: 8,
  budgetMs: 45_000,
  leaseMs: 60_000,
  pauseAfterUnavailable: 3,
  defaultPauseMs: 1_000,
};

/** What makes an account due in a run that started at `startedAt`. */
export function dueCriteria(policy: SweepPolicy, now: Date, startedAt: Date) {
  return {
    expiresBefore: Math.floor(now.getTime() / 1000) + policy.horizonSeconds,
    idleSince: new Date(now.getTime() - policy.idleDays * 86_400_000),
    // A token whose lifetime is shorter than the horizon is due again right after
    // its refresh; it waits for the next run.
    notRefreshedSince: startedAt,
  };
}

/** A provider's run so far: how many unavailable answers in a row. */
export type ProviderRun = { unavailableInARow: number };

/**
 * After a failed refresh: until when the whole provider is left alone, or
 * undefined to go on. A 429 is about the client, not the account, so one pauses
 * the provider at once; 5xx and timeouts do after `pauseAfterUnavailable` in a row.
 */
export function pauseAfterFailure(policy: SweepPolicy, run: ProviderRun, error: TokenError, now: number): number | undefined {
  if (error.code !== "provider_unavailable") return undefined;
  if (error.providerStatus !== 429 && run.unavailableInARow < policy.pauseAfterUnavailable) return undefined;
  return error.retryAfter?.getTime() ?? now + policy.defaultPauseMs;
}

// What the cron route lets a caller (holding CRON_SECRET) change for one run, e.g.
// a smaller budget when running it by hand. Bounded so no request can make a run
// outlive its function or hammer a provider.
const overridesSchema = z.strictObject({
  batchSize: z.coerce.number().int().min(1).max(500).optional(),
  concurrency: z.coerce.number().int().min(1).max(64).optional(),
  budgetMs: z.coerce.number().int().min(100).max(DEFAULT_SWEEP_POLICY.budgetMs).optional(),
});

/** The policy for one run from the route's query string; 400 names a bad parameter. */
export function policyFromQuery(params: URLSearchParams): SweepPolicy {
  const result = overridesSchema.safeParse(Object.fromEntries(params));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = issue.path.length ? String(issue.path[0]) : "query";
    throw badRequest(issue.code === "unrecognized_keys" ? `unknown parameter: ${issue.keys.join(", ")}` : `${name}: ${issue.message}`);
  }
  const overrides = Object.fromEntries(Object.entries(result.data).filter(([, value]) => value !== undefined));
  return { ...DEFAULT_SWEEP_POLICY, ...overrides };
}
