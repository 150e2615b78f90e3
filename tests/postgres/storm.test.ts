import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptToken, parseKeyring } from "@/lib/tokens/crypto";
import { epochNow, issueTokens, seedAccount } from "../../testkit/grants";
import { engineFor, startTestStack, type TestStack } from "../../testkit/stack";

// The reason Tokenkeeper exists: Auth.js's refresh pattern, hit by 30 requests at
// the moment a token expired against a rotating provider, made 13 refresh attempts
// and lost the grant. Two engines that share only the database must make one.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack("postgres");
});
afterAll(() => stack?.stop());

describe("the refresh storm", () => {
  it("50 concurrent callers on two instances: one refresh grant, one valid token, no invalid_grant", async () => {
    const account = await seedAccount(stack.db, stack, "storm", await issueTokens(stack, "storm"), epochNow() - 5);
    const instances = [engineFor(stack), engineFor(stack)];
    const before = { ...stack.oidc!.stats };
    // Make the provider take a while so every caller really overlaps the refresh.
    stack.oidc!.faults.token = () => ({ delayMs: 150 });

    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => instances[i % 2]!.getAccessToken(account.userId, "oidc")));
    stack.oidc!.faults.token = undefined;

    expect(stack.oidc!.stats.refreshRequests - before.refreshRequests).toBe(1);
    expect(stack.oidc!.stats.invalidGrants - before.invalidGrants).toBe(0);
    expect(new Set(tokens).size).toBe(1);
    const me = await fetch(`${stack.env.AUTH_OIDC_ISSUER}/me`, { headers: { authorization: `Bearer ${tokens[0]}` } });
    expect(me.status).toBe(200);
    const row = await stack.db.account.findUniqueOrThrow({ where: { id: account.accountId } });
    expect(row).toMatchObject({ status: "active", tokenVersion: 1, leaseOwner: null });
    expect(await decryptToken(parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS), row.access_token!, row, "access_token")).toBe(tokens[0]);
  });

  it("30 callers on two instances whose provider API refused one token, arriving over 0.6 s: one forced refresh, one new token", async () => {
    const account = await seedAccount(stack.db, stack, "storm-401", await issueTokens(stack, "storm-401"), epochNow() + 3600);
    // Each caller read the row, called the provider's API with its token and got a 401.
    const stale = await stack.db.account.findUniqueOrThrow({ where: { id: account.accountId } });
    const instances = [engineFor(stack), engineFor(stack)];
    const before = { ...stack.oidc!.stats };
    stack.oidc!.faults.token = () => ({ delayMs: 100 });
    const issued = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 20));
        return instances[i % 2]!.accessTokenRefused(stale);
      }),
    );
    stack.oidc!.faults.token = undefined;

    expect(stack.oidc!.stats.refreshRequests - before.refreshRequests).toBe(1);
    expect(stack.oidc!.stats.invalidGrants - before.invalidGrants).toBe(0);
    expect(new Set(issued.map((each) => each.accessToken)).size).toBe(1);
    expect(await stack.db.account.findUniqueOrThrow({ where: { id: account.accountId } })).toMatchObject({ tokenVersion: stale.tokenVersion + 1, leaseOwner: null });
  });
});
