import { describe, expect, it } from "vitest";
import { ProviderUnavailableError, ReauthRequiredError, TokenError } from "@/lib/errors";
import { DEFAULT_SWEEP_POLICY, dueCriteria, pauseAfterFailure, policyFromQuery } from "@/lib/tokens/sweep-policy";

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

describe("dueCriteria", () => {
  it("turns the horizon and idle days into instants, and refreshes an account once per run", () => {
    const started = new Date(now - 5_000);
    expect(dueCriteria(policy, new Date(now), started)).toStrictEqual({
      expiresBefore: now / 1000 + 20 * 60,
      idleSince: new Date(now - 7 * 86_400_000),
      notRefreshedSince: started,
    });
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
