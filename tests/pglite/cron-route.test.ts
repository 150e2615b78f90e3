import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { epochNow, issueTokens, seedAccount } from "../support/grants";
import { startTestStack, type TestStack } from "../support/stack";

// The route module itself, called with real Requests (it reads no session).
let stack: TestStack;
let GET: (request: Request) => Promise<Response>;
beforeAll(async () => {
  // Tokens outlive the sweep's 20-minute horizon, so a refreshed account is not due again.
  stack = await startTestStack("pglite", { DEV_OIDC_ACCESS_TOKEN_TTL: "3600" });
  ({ GET } = await import("@/app/api/cron/refresh-tokens/route"));
});
afterAll(() => stack?.stop());

const call = (authorization?: string, query = "") =>
  GET(new Request(`http://localhost/api/cron/refresh-tokens${query}`, { headers: authorization === undefined ? {} : { authorization } }));

describe("GET /api/cron/refresh-tokens", () => {
  it.each([
    ["no header", undefined],
    ["an empty bearer", "Bearer "],
    ["a wrong secret", "Bearer wrong"],
    ["the secret without the Bearer scheme", () => stack.env.CRON_SECRET!],
    ["a secret that differs only in its last byte", () => `Bearer ${stack.env.CRON_SECRET!.slice(0, -1)}${stack.env.CRON_SECRET!.endsWith("A") ? "B" : "A"}`],
  ])("answers 401 JSON for %s", async (_label, header) => {
    const response = await call(typeof header === "function" ? header() : header);
    expect(response.status).toBe(401);
    expect(await response.json()).toStrictEqual({ error: "unauthorized", message: "Missing or wrong bearer secret." });
  });

  it("checks the bearer before it says anything about its configuration (#11)", async () => {
    const secret = process.env.CRON_SECRET;
    delete process.env.CRON_SECRET;
    try {
      const response = await call(`Bearer ${secret}`);
      expect(response.status).toBe(401);
      expect(JSON.stringify(await response.json())).not.toContain("CRON_SECRET");
    } finally {
      process.env.CRON_SECRET = secret;
    }
  });

  it.each([
    ["an unknown parameter", "?horizon=1", "unknown parameter: horizon"],
    ["a budget above the function's limit", "?budgetMs=999999", "budgetMs: Too big: expected number to be <=45000"],
    ["a concurrency that is no number", "?concurrency=many", "concurrency: Invalid input: expected number, received NaN"],
  ])("answers 400 naming %s, and sweeps nothing", async (_label, query, message) => {
    const runs = await stack.db.sweepRun.count();
    const response = await call(`Bearer ${stack.env.CRON_SECRET}`, query);
    expect(response.status).toBe(400);
    expect(await response.json()).toStrictEqual({ error: "bad_request", message });
    expect(await stack.db.sweepRun.count()).toBe(runs);
  });

  it("takes a smaller budget, batch and concurrency for one run", async () => {
    const response = await call(`Bearer ${stack.env.CRON_SECRET}`, "?budgetMs=2000&batchSize=5&concurrency=2");
    expect(response.status).toBe(200);
    expect((await response.json()).durationMs).toBeLessThan(2000 + 1000);
  });

  it("runs a sweep and answers its report, recording the run", async () => {
    await seedAccount(stack.db, stack, "cron-user", await issueTokens(stack, "cron-user"), epochNow() + 30);
    const response = await call(`Bearer ${stack.env.CRON_SECRET}`);
    expect(response.status).toBe(200);
    const report = await response.json();
    expect(Object.keys(report).sort()).toStrictEqual(["claimed", "durationMs", "failed", "reauthRequired", "refreshed", "skipped"]);
    expect(report).toMatchObject({ claimed: 1, refreshed: 1, failed: 0 });
    const run = await stack.db.sweepRun.findFirstOrThrow({ orderBy: { startedAt: "desc" } });
    expect(run).toMatchObject({ claimed: 1, refreshed: 1, error: null });
    expect(run.finishedAt).not.toBeNull();
    // Delivered twice: nothing is due any more.
    expect(await (await call(`Bearer ${stack.env.CRON_SECRET}`)).json()).toMatchObject({ claimed: 0, refreshed: 0 });
  });
});
