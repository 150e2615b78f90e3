import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { refreshNow } from "@/lib/accounts";
import { tokenFetch } from "@/lib/provider-proxy";
import { encryptToken, parseKeyring } from "@/lib/tokens/crypto";
import { epochNow, issueTokens, seedAccount, type SeededAccount } from "../../testkit/grants";
import { startTestStack, type TestStack } from "../../testkit/stack";

// #17: an account is resolved once per call and the row travels on (proxy, engine, the
// refresh on a 401, the summary). Counted at the local Neon endpoint, where every
// statement the app sends arrives: reads are the statements that start with SELECT.
// The provider API is the dev provider's own (its /me checks the bearer).
let stack: TestStack;
let seq = 0;
beforeAll(async () => {
  stack = await startTestStack("pglite");
});
afterAll(() => stack?.stop());

async function seeded(): Promise<SeededAccount> {
  const login = `reads-${++seq}`;
  // Refreshed a minute ago: a forced refresh (401, "Refresh now") may run.
  return seedAccount(stack.db, stack, login, await issueTokens(stack, login), epochNow() + 3600, { refreshedAt: new Date(Date.now() - 60_000) });
}

/** The statements `work` sent, by kind. */
async function counted(work: () => Promise<unknown>): Promise<{ reads: number; statements: number }> {
  const before = stack.endpoint!.requests();
  await work();
  const statements = stack.endpoint!.requests() - before;
  const reads = stack
    .endpoint!.statements()
    .slice(-statements)
    .filter((sql) => /^\s*SELECT\b/i.test(sql)).length;
  return { reads, statements };
}

describe("an account resolved once per call (#17)", () => {
  it("reads the account once for a proxied call with a fresh token, and sends nothing else", async () => {
    const account = await seeded();
    const response = await tokenFetch(account.userId, "oidc", "me");
    expect(response.status).toBe(200);
    expect(await counted(() => tokenFetch(account.userId, account.accountId, "me").then((answer) => answer.text()))).toStrictEqual({ reads: 1, statements: 1 });
  });

  it("reads the account once for a proxied call the provider answers 401, then claims and writes the refresh", async () => {
    const account = await seeded();
    // An access token the provider no longer accepts, though not expired here.
    const revoked = await encryptToken(parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS), "revoked-early", { provider: "oidc", providerAccountId: `reads-${seq}` }, "access_token");
    await stack.db.account.update({ where: { id: account.accountId }, data: { access_token: revoked } });
    const refreshes = stack.oidc!.stats.refreshRequests;
    let status = 0;
    expect(await counted(async () => (status = (await tokenFetch(account.userId, "oidc", "me")).status))).toStrictEqual({ reads: 1, statements: 3 });
    expect(status).toBe(200);
    expect(stack.oidc!.stats.refreshRequests - refreshes).toBe(1);
  });

  it('reads the account once for "Refresh now", and answers the summary of the row as written', async () => {
    const account = await seeded();
    const before = await stack.db.account.findUniqueOrThrow({ where: { id: account.accountId } });
    let summary: Awaited<ReturnType<typeof refreshNow>> | undefined;
    expect(await counted(async () => (summary = await refreshNow(account.userId, account.accountId)))).toStrictEqual({ reads: 1, statements: 3 });
    const after = await stack.db.account.findUniqueOrThrow({ where: { id: account.accountId } });
    expect(after.tokenVersion).toBe(before.tokenVersion + 1);
    expect(summary).toMatchObject({ id: account.accountId, status: "active", refreshedAt: after.refreshedAt!.toISOString(), expiresAt: new Date(Number(after.expires_at) * 1000).toISOString() });
  });
});
