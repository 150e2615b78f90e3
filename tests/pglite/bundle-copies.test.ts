import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { listAccounts } from "@/lib/accounts";
import { createApiKey } from "@/lib/api-keys";
import { epochNow, issueTokens, seedAccount, type SeededAccount } from "../../testkit/grants";
import { engineFor, startTestStack, type TestStack } from "../../testkit/stack";

// `next build` bundles lib/ once for the route handlers and again for the pages and
// server actions: one process, two copies of every module, each with classes of its
// own. Here as there: this file's imports are the pages' copy, and a route handler
// imported after vi.resetModules() is the other. Webhooks off, as the browser suite
// runs `next start` (#22: a 500 where the browser suite expected 502).
let stack: TestStack;
let seq = 0;
beforeAll(async () => {
  stack = await startTestStack("pglite");
  expect(process.env.TOKENKEEPER_WEBHOOK_URL).toBeUndefined();
});
afterAll(() => stack?.stop());
beforeEach(async () => {
  stack.oidc!.faults.token = undefined;
  await stack.db.providerPause.deleteMany();
});

async function seeded(expiresAt: number): Promise<SeededAccount> {
  const login = `copies-${++seq}`;
  return seedAccount(stack.db, stack, login, await issueTokens(stack, login), expiresAt);
}

/** The route handlers' copy of lib/: GET /api/v1/accounts/{accountId}/token as `next start` serves it. */
async function tokenRouteOfAnotherCopy() {
  vi.resetModules();
  return (await import("@/app/api/v1/accounts/[accountId]/token/route")).GET;
}

describe("two copies of lib/ in one process, as next build makes them", () => {
  it.each([
    ["invalid_client", { status: 401, error: "invalid_client" }, 502, "provider_misconfigured"],
    ["invalid_grant", { status: 400, error: "invalid_grant" }, 409, "reauth_required"],
    ["a 503", { status: 503, error: "temporarily_unavailable" }, 503, "provider_unavailable"],
  ] as const)("a route handler answers a refresh refused with %s by its meaning, though a page built the app first", async (_name, fault, status, code) => {
    const account = await seeded(epochNow() - 10);
    // A page asks first (the sign-in page, the dashboard): its copy builds its app.
    await listAccounts(account.userId);
    const GET = await tokenRouteOfAnotherCopy();
    const { key } = await createApiKey(stack.db, { name: "copies", scopes: ["tokens:read"] });
    stack.oidc!.faults.token = ({ grantType }) => (grantType === "refresh_token" ? fault : undefined);
    const response = await GET(new Request(`http://localhost:3999/api/v1/accounts/${account.accountId}/token`, { headers: { authorization: `Bearer ${key}` } }));
    expect({ status: response.status, body: await response.json() }).toMatchObject({ status, body: { error: code } });
    if (code === "provider_misconfigured") {
      // The provider paused, the account untouched (not the user's fault).
      expect(await stack.db.providerPause.findUnique({ where: { provider: "oidc" } })).toMatchObject({ error: expect.stringMatching(/invalid_client/) });
      expect(await stack.db.account.findUniqueOrThrow({ where: { id: account.accountId } })).toMatchObject({ status: "active", failureCount: 0, leaseOwner: null });
    }
  });

  it("a disconnect through one copy drops the tokens the other copy's engine cached", async () => {
    const account = await seeded(epochNow() + 3600);
    const engine = engineFor(stack);
    expect(await engine.getAccessToken(account.userId, "oidc")).toBe(account.tokens.accessToken);
    vi.resetModules();
    const { disconnect } = await import("@/lib/accounts");
    await disconnect(account.userId, account.accountId);
    // Not the revoked token from the cache: the account is gone.
    await expect(engine.getAccessToken(account.userId, "oidc")).rejects.toMatchObject({ code: "not_found" });
  });
});
