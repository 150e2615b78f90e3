import { describe, expect, it } from "vitest";
import { ProviderMisconfiguredError, ProviderUnavailableError, ReauthRequiredError, AppError } from "@/lib/errors";
import { DEFAULT_SWEEP_POLICY, nextSweepAt, pauseAfterFailure, policyFromQuery, shouldRecordUse, sweepPolicyFrom, workersFor, type SweepSchedule } from "@/lib/tokens/sweep-policy";

const now = Date.parse("2026-01-01T00:00:00Z");
const policy = DEFAULT_SWEEP_POLICY;

describe("pauseAfterFailure", () => {
  const cases: [string, AppError, number, number | undefined][] = [
    ["pauses at once on a 429, until its Retry-After", new ProviderUnavailableError("429", { providerStatus: 429, retryAfter: new Date(now + 30_000) }), 1, now + 30_000],
    ["pauses on a 429 without Retry-After for the default pause", new ProviderUnavailableError("429", { providerStatus: 429 }), 1, now + policy.defaultPauseMs],
    ["goes on after one 5xx", new ProviderUnavailableError("500", { providerStatus: 500 }), 1, undefined],
    ["goes on after two 5xx in a row", new ProviderUnavailableError("500", { providerStatus: 500 }), 2, undefined],
    ["pauses after three 5xx or timeouts in a row", new ProviderUnavailableError("timeout"), 3, now + policy.defaultPauseMs],
    ["never pauses for one account's invalid_grant", new ReauthRequiredError("invalid_grant"), 9, undefined],
    ["never pauses for a row it cannot decrypt", new AppError("undecryptable", "no key"), 9, undefined],
    ["pauses at once when the app's credentials are refused (#18)", new ProviderMisconfiguredError("invalid_client", { providerStatus: 400 }), 0, now + policy.misconfiguredPauseMs],
  ];
  it.each(cases)("%s", (_label, error, inARow, expected) => {
    expect(pauseAfterFailure(policy, { unavailableInARow: inARow }, error, now)).toBe(expected);
  });
});

describe("nextSweepAt (work follows use)", () => {
  const at = new Date(now);
  const minutes = (m: number) => new Date(now + m * 60_000);
  const days = (d: number) => new Date(now + d * 86_400_000);
  // The keep-alive runs one cron interval (10 min) plus the horizon (20 min) before the idle window closes.
  const keepalive = (d: number) => new Date(days(d).getTime() - 30 * 60_000);
  const cases: [string, SweepSchedule, Date][] = [
    ["refreshes a used account 20 minutes before its token expires", { lastUsedAt: at, expiresAt: minutes(60), refreshedAt: at }, minutes(40)],
    ["counts an account used 6 days ago as active", { lastUsedAt: days(-6), expiresAt: minutes(60), refreshedAt: at }, minutes(40)],
    ["keeps only the refresh token alive for an account unused for 8 days", { lastUsedAt: days(-8), expiresAt: minutes(60), refreshedAt: at }, keepalive(7)],
    ["keeps alive an account never used since it was linked", { lastUsedAt: null, expiresAt: minutes(60), refreshedAt: at }, keepalive(7)],
    ["keeps alive a token that gives no expiry", { lastUsedAt: at, expiresAt: null, refreshedAt: at }, keepalive(7)],
    ["never waits past the keep-alive, however long the token lives", { lastUsedAt: at, expiresAt: days(30), refreshedAt: at }, keepalive(7)],
    ["counts the keep-alive from the last refresh", { lastUsedAt: null, expiresAt: minutes(60), refreshedAt: days(-3) }, keepalive(4)],
    // #18: a 7-day idle window (a common identity-provider default) never closes before the cron comes.
    ["runs the keep-alive a cron interval plus the margin inside the idle window", { lastUsedAt: null, expiresAt: null, refreshedAt: at }, minutes(7 * 24 * 60 - 30)],
    ["never keeps alive past a refresh token's known expiry", { lastUsedAt: null, expiresAt: null, refreshedAt: at, refreshTokenExpiresAt: days(2) }, keepalive(2)],
    ["visits when account.reauth_upcoming falls due", { lastUsedAt: null, expiresAt: null, refreshedAt: at, reauthWarningAt: days(3) }, days(3)],
    // #18: a token shorter-lived than the horizon is not due again the moment it is refreshed.
    ["refreshes a 15-minute token at 80 % of its life", { lastUsedAt: at, expiresAt: minutes(15), refreshedAt: at }, minutes(12)],
    ["refreshes a 25-minute token no sooner than 80 % of the horizon", { lastUsedAt: at, expiresAt: minutes(25), refreshedAt: at }, minutes(16)],
    ["refreshes at most once per cron tick, however short the token", { lastUsedAt: at, expiresAt: minutes(1), refreshedAt: at }, minutes(5)],
  ];
  it.each(cases)("%s", (_label, schedule, expected) => {
    expect(nextSweepAt(policy, schedule, at)).toStrictEqual(expected);
  });

  it("takes TOKEN_SWEEP_ACTIVE_DAYS, TOKEN_SWEEP_KEEPALIVE_DAYS and TOKEN_SWEEP_INTERVAL_SECONDS", () => {
    const tight = sweepPolicyFrom({ activeDays: 1, keepaliveDays: 2, intervalSeconds: 60, runCapacity: 1000, maxWorkers: 4 });
    expect(nextSweepAt(tight, { lastUsedAt: days(-1.5), expiresAt: minutes(60), refreshedAt: at }, at)).toStrictEqual(new Date(days(2).getTime() - 21 * 60_000));
  });

  it("is always ahead of the refresh it follows: 5-minute tokens under a 1-minute cron refresh every 4 minutes, not every tick (#18)", () => {
    const everyMinute = sweepPolicyFrom({ intervalSeconds: 60 });
    let due = new Date(now);
    let refreshes = 0;
    for (let tick = 0; tick < 60; tick++) {
      const time = new Date(now + tick * 60_000);
      if (due > time) continue;
      refreshes += 1;
      due = nextSweepAt(everyMinute, { lastUsedAt: time, expiresAt: new Date(time.getTime() + 5 * 60_000), refreshedAt: time }, time);
      expect(due.getTime()).toBeGreaterThan(time.getTime());
    }
    expect(refreshes).toBe(15);
  });

  it("records a use at most once an hour", () => {
    expect(shouldRecordUse(null, at)).toBe(true);
    expect(shouldRecordUse(minutes(-59), at)).toBe(false);
    expect(shouldRecordUse(minutes(-60), at)).toBe(true);
  });
});

describe("policyFromQuery", () => {
  it("is the default policy without parameters", () => {
    expect(policyFromQuery(new URLSearchParams())).toStrictEqual(DEFAULT_SWEEP_POLICY);
  });
  it("takes bounded overrides", () => {
    expect(policyFromQuery(new URLSearchParams("budgetMs=5000&concurrency=4"))).toStrictEqual({ ...DEFAULT_SWEEP_POLICY, budgetMs: 5000, concurrency: 4 });
  });
  it.each([["budgetMs=50"], ["batchSize=0"], ["concurrency=1.5"], ["leaseMs=1"], ["batchSize="], ["concurrency=0x10"], ["budgetMs=1e3"], ["batchSize=+5"], ["batchSize= 5"]])(
    "refuses %s with a 400",
    (query) => {
      expect(() => policyFromQuery(new URLSearchParams(query))).toThrow(expect.objectContaining({ code: "invalid_request" }));
    },
  );
});

describe("workersFor", () => {
  const fanOut = { ...DEFAULT_SWEEP_POLICY, runCapacity: 1000, maxWorkers: 4 };
  it.each([
    [0, 0],
    [1000, 0],
    [1001, 1],
    [2500, 2],
    [5000, 4],
    [1_000_000, 4],
  ])("starts %i due accounts' worth of workers: %i", (backlog, workers) => {
    expect(workersFor(fanOut, backlog)).toBe(workers);
  });
});
