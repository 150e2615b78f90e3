import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { claimLease } from "@/lib/db/refresh";
import { AppError, ProviderUnavailableError } from "@/lib/errors";
import { claimCondition, decide, type TokenDecision } from "@/lib/tokens/token-decision";
import { epochNow, issueTokens, seedAccount, type SeededAccount, userinfoStatus } from "../../testkit/grants";
import { engineFor, skewDatabaseClock, startTestStack, sweepOnce, type TestStack } from "../../testkit/stack";

// decide() (the app's view of a row) and the claim (the database's) must agree: where
// decide() says refresh and the claim refuses, resolveToken asks again until its
// deadline; where the claim takes a row decide() would use, a second refresh runs.
let stack: TestStack;
let seq = 0;
beforeAll(async () => {
  stack = await startTestStack("pglite");
});
afterAll(() => stack?.stop());
// What a test set apart, set level again: the provider's faults and the two clocks.
afterEach(async () => {
  stack.oidc!.faults.token = undefined;
  await skewDatabaseClock(stack, 0);
});

const refreshCalls = () => stack.oidc!.stats.refreshRequests;
const statements = () => stack.endpoint!.requests();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function seeded(expiresAt = epochNow() - 10): Promise<SeededAccount> {
  const login = `agree-${++seq}`;
  return seedAccount(stack.db, stack, login, await issueTokens(stack, login), expiresAt);
}
const rowOf = (account: SeededAccount) => stack.db.account.findUniqueOrThrow({ where: { id: account.accountId } });

describe("the claim's condition", () => {
  // decide()'s instant, mid-second; E is its whole second. Leases are an hour off it,
  // since the claim reads them by the database's clock (the same machine's here).
  const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 500);
  const E = Math.floor(at.getTime() / 1000);
  const HOUR = 3_600_000;
  const offset = (ms: number) => new Date(at.getTime() + ms);
  type Case = { fields: Record<string, unknown>; skew?: number; now?: Date; forceAfterVersion?: number; action: TokenDecision["action"] };
  const cases: [string, Case][] = [
    ["59.5 s left, 60 s skew", { fields: { expires_at: E + 60 }, action: "refresh" }],
    ["60.5 s left, 60 s skew", { fields: { expires_at: E + 61 }, action: "use" }],
    ["exactly the skew left, on the second", { fields: { expires_at: E + 60 }, now: new Date(E * 1000), action: "refresh" }],
    ["a second past the skew, on the second", { fields: { expires_at: E + 61 }, now: new Date(E * 1000), action: "use" }],
    ["no skew, expired half a second ago", { fields: { expires_at: E }, skew: 0, action: "refresh" }],
    ["no skew, half a second left", { fields: { expires_at: E + 1 }, skew: 0, action: "use" }],
    ["the longest skew (86,400 s), within it", { fields: { expires_at: E + 86_400 }, skew: 86_400, action: "refresh" }],
    ["the longest skew (86,400 s), beyond it", { fields: { expires_at: E + 86_401 }, skew: 86_400, action: "use" }],
    ["a negative skew: 29.5 s past expiry, within 30", { fields: { expires_at: E - 29 }, skew: -30, action: "use" }],
    ["a negative skew: 30.5 s past expiry", { fields: { expires_at: E - 30 }, skew: -30, action: "refresh" }],
    ["expiry beyond 2^31 s (BIGINT), within the skew", { fields: { expires_at: 2 ** 31 + 60 }, now: new Date((2 ** 31 + 0.5) * 1000), action: "refresh" }],
    ["expiry beyond 2^31 s (BIGINT), beyond the skew", { fields: { expires_at: 2 ** 31 + 61 }, now: new Date((2 ** 31 + 0.5) * 1000), action: "use" }],
    ["no expiry known", { fields: { expires_at: null }, action: "use" }],
    ["no access token, expiring later", { fields: { access_token: null, expires_at: E + 3600 }, action: "refresh" }],
    ["no access token, no expiry", { fields: { access_token: null, expires_at: null }, action: "refresh" }],
    ["forced, tokens no newer than asked", { fields: { expires_at: E + 3600, tokenVersion: 3 }, forceAfterVersion: 3, action: "refresh" }],
    ["forced, tokens newer than asked", { fields: { expires_at: E + 3600, tokenVersion: 3 }, forceAfterVersion: 2, action: "use" }],
    ["forced, newer tokens without expiry", { fields: { expires_at: null, tokenVersion: 3 }, forceAfterVersion: 2, action: "use" }],
    ["forced, newer tokens but expiring", { fields: { expires_at: E + 10, tokenVersion: 3 }, forceAfterVersion: 2, action: "refresh" }],
    ["backing off for an hour", { fields: { expires_at: E - 10, retryAfter: offset(HOUR) }, action: "backoff" }],
    ["backing off 1 ms more", { fields: { expires_at: E - 10, retryAfter: offset(1) }, action: "backoff" }],
    ["a back-off ending at that very instant", { fields: { expires_at: E - 10, retryAfter: at }, action: "refresh" }],
    ["a back-off ended 1 ms before", { fields: { expires_at: E - 10, retryAfter: offset(-1) }, action: "refresh" }],
    ["backing off with a token that still lives", { fields: { expires_at: E + 30, retryAfter: offset(HOUR) }, action: "use" }],
    ["forced while backing off", { fields: { expires_at: E + 3600, tokenVersion: 3, retryAfter: offset(HOUR) }, forceAfterVersion: 3, action: "backoff" }],
    ["another holder's lease", { fields: { expires_at: E - 10, leaseOwner: "other", leaseUntil: offset(HOUR) }, action: "wait" }],
    ["a lease that ran out", { fields: { expires_at: E - 10, leaseOwner: "other", leaseUntil: offset(-HOUR) }, action: "refresh" }],
    ["no refresh token", { fields: { expires_at: E - 10, refresh_token: null }, action: "reauth" }],
    ["reauth_required", { fields: { expires_at: E - 10, status: "reauth_required" }, action: "reauth" }],
    ["signed out", { fields: { expires_at: E - 10, status: "signed_out" }, action: "reauth" }],
  ];

  it.each(cases)("claims exactly where decide() says refresh: %s", async (label, { fields, skew = 60, now = at, forceAfterVersion, action }) => {
    const user = await stack.db.user.create({ data: { name: label } });
    const row = await stack.db.account.create({
      data: { userId: user.id, type: "oidc", provider: "oidc", providerAccountId: `table-${++seq}`, access_token: "an access token", refresh_token: "a refresh token", ...fields },
    });
    const judged = { now, skewSeconds: skew, forceAfterVersion };
    expect(decide(row, judged).action).toBe(action);
    const claimed = await claimLease(stack.db, row.id, { owner: "table", leaseMs: 60_000, when: claimCondition(judged) });
    expect(claimed === null ? "refused" : "claimed").toBe(action === "refresh" ? "claimed" : "refused");
  });
});

describe("a forced refresh", () => {
  it("of a row read before another instance refreshed it makes no second refresh: the newer tokens satisfy it", async () => {
    const account = await seeded(epochNow() + 3600);
    // Both instances' provider calls were refused with the token this row holds (a 401).
    const stale = await rowOf(account);
    const before = refreshCalls();
    const first = await engineFor(stack).accessTokenRefused(stale);
    const second = await engineFor(stack).accessTokenRefused(stale);
    expect(refreshCalls() - before).toBe(1);
    expect(second.accessToken).toBe(first.accessToken);
    expect(second.refreshed).toBe(false);
    expect(await userinfoStatus(stack, second.accessToken)).toBe(200);
  });
});

describe("the app's clock and the database's apart", () => {
  it.each([
    ["behind the app's", -60],
    ["ahead of the app's", 60],
  ])("with the database's clock a minute %s, a back-off the app wrote ends by the app's clock: no refresh_busy, no spin", async (_label, seconds) => {
    await skewDatabaseClock(stack, seconds);
    const account = await seeded();
    const engine = engineFor(stack, { leaseMs: 2000, pollMs: 100 });
    stack.oidc!.faults.token = () => ({ status: 503 });
    const failed = await engine.getAccessToken(account.userId, "oidc").catch((error: unknown) => error);
    stack.oidc!.faults.token = undefined;
    expect(failed).toBeInstanceOf(ProviderUnavailableError);
    const retryAfter = (failed as ProviderUnavailableError).retryAfter!;

    // Within the back-off, to its last millisecond: the app's answer, at once and with no
    // provider call. (At the real time, the back-off of a second may be over by now on a loaded machine.)
    const calls = refreshCalls();
    const withinBackoff = engineFor(stack, { leaseMs: 2000, pollMs: 100, now: () => new Date(retryAfter.getTime() - 1) });
    await expect(withinBackoff.getAccessToken(account.userId, "oidc")).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(refreshCalls()).toBe(calls);

    await sleep(retryAfter.getTime() - Date.now() + 50);
    const before = statements();
    const token = await engine.getAccessToken(account.userId, "oidc").catch((error: unknown) => error);
    expect(token).not.toBeInstanceOf(AppError);
    expect(await userinfoStatus(stack, token as string)).toBe(200);
    expect(refreshCalls() - calls).toBe(1);
    // A read, a claim and the write (a spin, or waiting out the database's back-off, makes dozens).
    expect(statements() - before).toBeLessThan(8);
  });

  it("with the database's clock a minute behind, a crashed holder's lease is waited out by the database's clock, then refreshed once", async () => {
    await skewDatabaseClock(stack, -60);
    const account = await seeded();
    // Timed from before the claim: the lease ends at least 1.5 s after this, however late the claim's answer comes.
    const started = Date.now();
    expect(await claimLease(stack.db, account.accountId, { owner: "crashed-instance", leaseMs: 1500 })).not.toBeNull();
    const engine = engineFor(stack, { leaseMs: 5000, pollMs: 100 });
    const before = statements();
    const calls = refreshCalls();
    const token = await engine.getAccessToken(account.userId, "oidc");
    // To the app the lease ended a minute ago; to the claim 1.5 s after it was taken.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(refreshCalls() - calls).toBe(1);
    expect(await userinfoStatus(stack, token)).toBe(200);
    // 1.5 s at one claim and one read per 100 ms is ~30 statements; a spin makes hundreds.
    expect(statements() - before).toBeLessThan(60);
  });
});

describe("the sweep with the database's clock apart", () => {
  it("records a run's end by the clock that recorded its start: it never ends before it began", async () => {
    await skewDatabaseClock(stack, 60);
    await sweepOnce(stack);
    const run = await stack.db.sweepRun.findFirstOrThrow({ orderBy: { startedAt: "desc" } });
    expect(run.finishedAt).not.toBeNull();
    expect(run.finishedAt!.getTime()).toBeGreaterThanOrEqual(run.startedAt.getTime());
  });

  it("claims an account once per run while the database's clock runs behind the app's: a failure is retried by the next run", async () => {
    await stack.db.account.updateMany({ data: { nextSweepAt: new Date(Date.now() + 365 * 86_400_000) } });
    await skewDatabaseClock(stack, -1);
    const failing = await seeded(epochNow() + 600);
    const others = await Promise.all(Array.from({ length: 12 }, () => seeded(epochNow() + 600)));
    // All due and last written a minute ago, the failing one first: its back-off (1 s)
    // ends while the run still claims.
    const aMinuteAgo = new Date(Date.now() - 60_000);
    await stack.db.account.update({ where: { id: failing.accountId }, data: { nextSweepAt: new Date(Date.now() - 120_000), updatedAt: aMinuteAgo } });
    await stack.db.account.updateMany({ where: { id: { in: others.map((account) => account.accountId) } }, data: { nextSweepAt: aMinuteAgo, updatedAt: aMinuteAgo } });
    stack.oidc!.faults.token = ({ refreshToken }) => (refreshToken === failing.tokens.refreshToken ? { status: 503 } : { delayMs: 250 });
    const before = refreshCalls();
    const report = await sweepOnce(stack, { batchSize: 1, concurrency: 1 });
    expect(report).toMatchObject({ claimed: 13, refreshed: 12, failed: 1 });
    expect(refreshCalls() - before).toBe(13);
  });
});
