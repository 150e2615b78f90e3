import { describe, expect, it } from "vitest";
import { ProviderUnavailableError, ReauthRequiredError, TokenError } from "@/lib/errors";
import { DEFAULT_SWEEP_POLICY, nextSweepAt, pauseAfterFailure, policyFromQuery, shouldRecordUse, sweepPolicyFrom, workersFor } from "@/lib/tokens/sweep-policy";

const now = Date.parse("2026-01-01T00:00:00Z");
const policy = DEFAULT_SWEEP_POLICY;

describe("pauseAfterFailure", () => {
  const cases: [string, TokenError, number, number | undefined][] = [
    ["pauses at once on a 429, until its Retry-After", new ProviderUnavailableError("429", { providerStatus: 429, retryAfter: new Date(now + 30_000) }), 1, now + 30_000],
    ["pauses on a 429 without Retry-After for the default pause", new ProviderUnavailableError("429", { providerStatus: 429 }), 1, now + policy.defaultPauseMs],
    ["goes on after one 5xx", new ProviderUnavailableError("500", { providerStatus: 500 }), 1, undefined],
    ["goes on after two 5xx in a row", new ProviderUnavailableError("500", { providerStatus: 500 }), 2, undefined],
    ["pauses after three 5xx or timeouts in a row", new ProviderUnavailableError("timeout"), 3, now + policy.defaultPauseMs],
    ["never pauses for one account's invalid_grant", new ReauthRequiredError("invalid_grant"), 9, undefined],
    ["never pauses for a row it cannot decrypt", new TokenError("undecryptable", "no key"), 9, undefined],
  ];
  it.each(cases)("%s", (_label, error, inARow, expected) => {
    expect(pauseAfterFailure(policy, { unavailableInARow: inARow }, error, now)).toBe(expected);
  });
});

describe("nextSweepAt (work follows use)", () => {
  const at = new Date(now);
  const minutes = (m: number) => new Date(now + m * 60_000);
  const days = (d: number) => new Date(now + d * 86_400_000);
  const cases: [string, { lastUsedAt: Date | null; expiresAt: Date | null; refreshedAt: Date }, Date][] = [
    ["refreshes a used account 20 minutes before its token expires", { lastUsedAt: at, expiresAt: minutes(60), refreshedAt: at }, minutes(40)],
    ["counts an account used 6 days ago as active", { lastUsedAt: days(-6), expiresAt: minutes(60), refreshedAt: at }, minutes(40)],
    ["keeps only the refresh token alive for an account unused for 8 days", { lastUsedAt: days(-8), expiresAt: minutes(60), refreshedAt: at }, days(7)],
    ["keeps alive an account never used since it was linked", { lastUsedAt: null, expiresAt: minutes(60), refreshedAt: at }, days(7)],
    ["keeps alive a token that gives no expiry", { lastUsedAt: at, expiresAt: null, refreshedAt: at }, days(7)],
    ["never waits past the keep-alive, however long the token lives", { lastUsedAt: at, expiresAt: days(30), refreshedAt: at }, days(7)],
    ["counts the keep-alive from the last refresh", { lastUsedAt: null, expiresAt: minutes(60), refreshedAt: days(-3) }, days(4)],
  ];
  it.each(cases)("%s", (_label, schedule, expected) => {
    expect(nextSweepAt(policy, schedule, at)).toStrictEqual(expected);
  });

  it("takes TOKEN_SWEEP_ACTIVE_DAYS and TOKEN_SWEEP_KEEPALIVE_DAYS", () => {
    const tight = sweepPolicyFrom({ activeDays: 1, keepaliveDays: 2, runCapacity: 1000, maxWorkers: 4 });
    expect(nextSweepAt(tight, { lastUsedAt: days(-1.5), expiresAt: minutes(60), refreshedAt: at }, at)).toStrictEqual(days(2));
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
  it.each([["budgetMs=50"], ["batchSize=0"], ["concurrency=1.5"], ["leaseMs=1"]])("refuses %s with a 400", (query) => {
    expect(() => policyFromQuery(new URLSearchParams(query))).toThrow(expect.objectContaining({ code: "bad_request" }));
  });
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
