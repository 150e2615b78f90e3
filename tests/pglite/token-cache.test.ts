import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { disconnect } from "@/lib/accounts";
import { ReauthRequiredError, type AppError } from "@/lib/errors";
import { signInThroughApp, type Fetcher } from "../../testkit/browserless";
import { APP_URL, appFetcher, signOutThroughApp } from "../support/app";
import { epochNow, issueTokens, postToProvider, seedAccount, type SeededAccount } from "../../testkit/grants";
import { eventually, settledCount } from "../support/eventually";
import { engineFor, startTestStack, sweepOnce, type TestStack } from "../../testkit/stack";

// The token cache in the engine (issue #23): repeat calls make no round trip (counted
// at the local Neon endpoint: every statement is one request there), and every change
// to an account in this process drops what was cached for it.
let stack: TestStack;
let fetcher: Fetcher;
let seq = 0;
beforeAll(async () => {
  stack = await startTestStack("pglite");
  fetcher = await appFetcher();
});
afterAll(() => stack?.stop());
beforeEach(() => {
  stack.oidc!.faults.token = undefined;
});

const requests = () => stack.endpoint!.requests();
/** Statements since `before` once at least `atLeast` arrived and no more followed (a use is recorded off the response path). */
const statementsSince = (before: number, atLeast: number) => settledCount(() => requests() - before, atLeast);
const refreshCalls = () => stack.oidc!.stats.refreshRequests;
async function seeded(expiresAt = epochNow() + 3600): Promise<SeededAccount> {
  const login = `cache-${++seq}`;
  return seedAccount(stack.db, stack, login, await issueTokens(stack, login), expiresAt);
}
const rowOf = (account: SeededAccount) => stack.db.account.findUniqueOrThrow({ where: { id: account.accountId } });
const accountOf = (login: string) => stack.db.account.findUniqueOrThrow({ where: { provider_providerAccountId: { provider: "oidc", providerAccountId: login } } });

describe("repeat calls", () => {
  it("1,000 calls as one user make one database round trip", async () => {
    const account = await seeded();
    const engine = engineFor(stack);
    const before = requests();
    for (let i = 0; i < 1000; i++) expect(await engine.getAccessToken(account.userId, "oidc")).toBe(account.tokens.accessToken);
    expect(await statementsSince(before, 1)).toBe(1);
  });

  it("still records a use when one is due, once, for calls answered from memory", async () => {
    const account = await seeded();
    await stack.db.account.update({ where: { id: account.accountId }, data: { lastUsedAt: new Date(Date.now() - 2 * 3_600_000) } });
    const engine = engineFor(stack);
    const before = requests();
    const asked = new Date();
    for (let i = 0; i < 50; i++) await engine.getAccessToken(account.userId, "oidc", { accountId: account.accountId });
    expect(await statementsSince(before, 2)).toBe(2); // the read and one use record
    // Recorded at the database's now(), once the write sent after the answer has run.
    await eventually(async () => ((await accountOf(`cache-${seq}`)).lastUsedAt! >= asked ? true : undefined));
  });

  it("makes one round trip per call with TOKEN_CACHE_TTL_SECONDS=0", async () => {
    const account = await seeded();
    const engine = engineFor(stack, { tokenCacheTtlSeconds: 0 });
    const before = requests();
    for (let i = 0; i < 20; i++) await engine.getAccessToken(account.userId, "oidc");
    expect(await statementsSince(before, 20)).toBe(20);
  });

  it("reads again once the TTL has passed", async () => {
    const account = await seeded();
    let clock = Date.now();
    const engine = engineFor(stack, { tokenCacheTtlSeconds: 5, now: () => new Date(clock) });
    const before = requests();
    await engine.getAccessToken(account.userId, "oidc");
    clock += 4_000;
    await engine.getAccessToken(account.userId, "oidc");
    expect(requests() - before).toBe(1);
    clock += 1_000;
    await engine.getAccessToken(account.userId, "oidc");
    expect(requests() - before).toBe(2);
  });

  it("never hands out a token past expiresAt − skew: the call that would refresh refreshes", async () => {
    // Expires 70 s after the clock's start with a 60 s skew: cacheable for 10 s only,
    // whatever the TTL. The clock starts from the expiry, not from when seeding ended:
    // on a loaded machine seeding can take more than a second.
    const expiresAt = epochNow() + 70;
    const account = await seeded(expiresAt);
    let clock = (expiresAt - 70) * 1000;
    const engine = engineFor(stack, { tokenCacheTtlSeconds: 60, now: () => new Date(clock) });
    expect(await engine.getAccessToken(account.userId, "oidc")).toBe(account.tokens.accessToken);
    clock += 9_000;
    expect(await engine.getAccessToken(account.userId, "oidc")).toBe(account.tokens.accessToken);
    clock += 2_000;
    const calls = refreshCalls();
    expect(await engine.getAccessToken(account.userId, "oidc")).not.toBe(account.tokens.accessToken);
    expect(refreshCalls() - calls).toBe(1);
  });
});

describe("invalidation in this process", () => {
  it("on a token write: a forced refresh's new token is what the next call gets", async () => {
    const account = await seeded();
    const engine = engineFor(stack);
    const other = engineFor(stack); // another engine of this process, e.g. the dashboard's
    expect(await other.getAccessToken(account.userId, "oidc")).toBe(account.tokens.accessToken);
    await engine.forceRefresh(await rowOf(account));
    const fresh = await other.getAccessToken(account.userId, "oidc");
    expect(fresh).not.toBe(account.tokens.accessToken);
    expect(fresh).toBe(await engine.getAccessToken(account.userId, "oidc"));
  });

  it("on a token write by the sweep", async () => {
    const account = await seeded();
    const engine = engineFor(stack);
    expect(await engine.getAccessToken(account.userId, "oidc")).toBe(account.tokens.accessToken);
    await stack.db.account.updateMany({ where: { id: { not: account.accountId } }, data: { status: "signed_out" } });
    await stack.db.account.update({ where: { id: account.accountId }, data: { nextSweepAt: new Date(Date.now() - 1000) } });
    expect((await sweepOnce(stack)).refreshed).toBe(1);
    expect(await engine.getAccessToken(account.userId, "oidc")).not.toBe(account.tokens.accessToken);
  });

  it("on reauth: once the grant is found revoked, the cached token is not handed out", async () => {
    const account = await seeded();
    const engine = engineFor(stack);
    expect(await engine.getAccessToken(account.userId, "oidc")).toBe(account.tokens.accessToken);
    expect((await postToProvider(stack, "/token/revocation", { token: account.tokens.refreshToken, token_type_hint: "refresh_token" })).status).toBe(200);
    await expect(engine.forceRefresh(await rowOf(account))).rejects.toBeInstanceOf(ReauthRequiredError);
    await expect(engine.getAccessToken(account.userId, "oidc")).rejects.toBeInstanceOf(ReauthRequiredError);
  });

  it("on disconnect: the unlinked account's token is not handed out", async () => {
    const account = await seeded();
    const engine = engineFor(stack);
    expect(await engine.getAccessToken(account.userId, "oidc")).toBe(account.tokens.accessToken);
    await disconnect(account.userId, account.accountId);
    await expect(engine.getAccessToken(account.userId, "oidc")).rejects.toMatchObject({ code: "not_found" });
  });

  it("on sign-in: the new tokens of a repeat sign-in are what the next call gets", async () => {
    await signInThroughApp(APP_URL, "cache-signin", fetcher);
    const { userId } = await accountOf("cache-signin");
    const engine = engineFor(stack);
    const first = await engine.getAccessToken(userId, "oidc");
    await signInThroughApp(APP_URL, "cache-signin", fetcher);
    const second = await engine.getAccessToken(userId, "oidc");
    expect(second).not.toBe(first);
  });

  it("on sign-out: the cleared tokens are not handed out", async () => {
    const agent = await signInThroughApp(APP_URL, "cache-signout", fetcher);
    const { userId } = await accountOf("cache-signout");
    const engine = engineFor(stack);
    await engine.getAccessToken(userId, "oidc");
    expect((await signOutThroughApp(agent)).status).toBe(302);
    const error = await engine.getAccessToken(userId, "oidc").then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ReauthRequiredError);
    expect((error as AppError).message).toMatch(/sign-out/);
  });
});
