import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callUserinfo, disconnect, listAccounts, refreshNow, requestMoreScopes } from "@/lib/accounts";
import { getAccessToken } from "@/lib/tokens";
import { signInThroughApp, type Agent, type Fetcher } from "../../testkit/browserless";
import { APP_URL, appFetcher } from "../support/app";
import { startTestStack, type TestStack } from "../../testkit/stack";

// One user, two accounts at the same provider (two logins at the dev provider), and
// another user: every route addresses an account by id, or by provider while it is
// the user's one account there (#12).
let stack: TestStack;
let fetcher: Fetcher;
let twin: Agent;
let userId: string;
let otherUserId: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  stack = await startTestStack("pglite");
  fetcher = await appFetcher();
  twin = await signInThroughApp(APP_URL, "twin-a", fetcher);
  // Signed in, linking again with the provider's login shown: a second account there.
  await signInThroughApp(APP_URL, "twin-b", fetcher, twin, { prompt: "login consent" });
  const rows = await stack.db.account.findMany({ where: { providerAccountId: { in: ["twin-a", "twin-b"] } } });
  expect(new Set(rows.map((row) => row.userId)).size).toBe(1);
  userId = rows[0]!.userId;
  for (const row of rows) ids[row.providerAccountId] = row.id;
  await signInThroughApp(APP_URL, "stranger", fetcher);
  otherUserId = (await stack.db.account.findFirstOrThrow({ where: { providerAccountId: "stranger" } })).userId;
  // Long enough ago that "Refresh now" is allowed.
  await stack.db.account.updateMany({ data: { refreshedAt: new Date(Date.now() - 60_000) } });
});
afterAll(() => stack?.stop());

describe("accounts by id", () => {
  it("lists both accounts with their id, identity and scopes, never a token", async () => {
    const accounts = await listAccounts(userId);
    expect(accounts.map(({ id, identity, providerAccountId }) => ({ id, identity, providerAccountId }))).toStrictEqual([
      { id: ids["twin-a"], identity: "twin-a@dev.tokenkeeper.test", providerAccountId: "twin-a" },
      { id: ids["twin-b"], identity: "twin-b@dev.tokenkeeper.test", providerAccountId: "twin-b" },
    ]);
    expect(accounts[0]!.scopes).toStrictEqual(expect.arrayContaining(["openid", "offline_access", "email", "profile"]));
    const rows = await stack.db.account.findMany({ where: { userId } });
    for (const row of rows) expect(JSON.stringify(accounts)).not.toContain(row.access_token!);
  });

  it("answers 409 ambiguous_account, listing the ids, for the provider id", async () => {
    for (const action of [refreshNow, callUserinfo, disconnect]) {
      await expect(action(userId, "oidc")).rejects.toMatchObject({ code: "ambiguous_account", status: 409, details: { accounts: [ids["twin-a"], ids["twin-b"]] } });
    }
    await expect(getAccessToken(userId, "oidc")).rejects.toMatchObject({ code: "ambiguous_account" });
  });

  it("refreshes and calls the provider as each account's own identity", async () => {
    for (const login of ["twin-a", "twin-b"]) {
      const refreshed = await refreshNow(userId, ids[login]!);
      expect(refreshed).toMatchObject({ id: ids[login], identity: `${login}@dev.tokenkeeper.test`, status: "active" });
      expect(await callUserinfo(userId, ids[login]!)).toMatchObject({ provider: "oidc", userinfo: { sub: login } });
      const token = await getAccessToken(userId, "oidc", { accountId: ids[login]! });
      const me = await fetch(`${stack.env.AUTH_OIDC_ISSUER}/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(await me.json()).toMatchObject({ sub: login });
    }
  });

  it("answers 404 for another user's account ids, whatever the route", async () => {
    for (const action of [refreshNow, callUserinfo, disconnect]) {
      await expect(action(otherUserId, ids["twin-a"]!)).rejects.toMatchObject({ code: "not_found", status: 404 });
    }
    await expect(getAccessToken(otherUserId, "oidc", { accountId: ids["twin-a"]! })).rejects.toMatchObject({ code: "not_found" });
  });

  it("answers 400 for a malformed account", async () => {
    await expect(refreshNow(userId, "../twin")).rejects.toMatchObject({ code: "invalid_request", status: 400 });
  });

  it("unlinks one account by id, after which the provider id names the other", async () => {
    expect(await disconnect(userId, ids["twin-b"]!)).toMatchObject({ provider: "oidc", revoked: true });
    expect((await callUserinfo(userId, "oidc")).userinfo).toMatchObject({ sub: "twin-a" });
  });
});

describe("more scopes later", () => {
  it.each([
    ["no scopes field", {}],
    ["an empty list", { scopes: [] }],
    ["a scope with a space", { scopes: ["phone address"] }],
    ["a scope with a quote", { scopes: ['pho"ne'] }],
    ["not a list", { scopes: "phone" }],
    ["an unknown field", { scopes: ["phone"], redirect: "https://evil.example" }],
  ])("answers 400 for %s", async (_label, body) => {
    await expect(requestMoreScopes(userId, ids["twin-a"]!, body, APP_URL)).rejects.toMatchObject({ code: "invalid_request", status: 400 });
  });

  it("stores the new tokens and scopes on the same account after the provider's consent", async () => {
    const before = await stack.db.account.findUniqueOrThrow({ where: { id: ids["twin-a"] } });
    expect(before.scope?.split(" ")).not.toContain("phone");
    expect((await callUserinfo(userId, ids["twin-a"]!)).userinfo).not.toHaveProperty("phone_number");
    // What the {url} starts: Auth.js's sign-in with the merged scope and the consent prompt.
    await signInThroughApp(APP_URL, "twin-a", fetcher, twin, { scope: `${before.scope} phone`, prompt: "login consent", login_hint: "twin-a@dev.tokenkeeper.test" });
    const after = await stack.db.account.findUniqueOrThrow({ where: { id: ids["twin-a"] } });
    expect(after.scope?.split(" ")).toStrictEqual(expect.arrayContaining(["openid", "offline_access", "phone"]));
    expect(after.tokenVersion).toBeGreaterThan(before.tokenVersion);
    expect((await listAccounts(userId)).find((account) => account.id === ids["twin-a"])!.scopes).toContain("phone");
    // The new token carries the new scope: the provider now answers its claims.
    expect((await callUserinfo(userId, ids["twin-a"]!)).userinfo).toMatchObject({ phone_number: "+1 555 0100" });
  });
});
