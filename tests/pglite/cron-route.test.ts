import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { epochNow, issueTokens, seedAccount } from "../../testkit/grants";
import { startTestStack, type TestStack } from "../../testkit/stack";

// The route module itself, called with real Requests (it reads no session).
let stack: TestStack;
let GET: (request: Request) => Promise<Response>;
beforeAll(async () => {
  // Tokens outlive the sweep's 20-minute horizon, so a refreshed account is not due again.
  stack = await startTestStack("pglite", { DEV_OIDC_ACCESS_TOKEN_TTL: "3600" });
  Object.assign(process.env, { TOKEN_SWEEP_RUN_CAPACITY: "4", TOKEN_SWEEP_MAX_WORKERS: "2" });
  ({ GET } = await import("@/app/api/cron/refresh-tokens/route"));
});
afterAll(() => stack?.stop());

const call = (authorization?: string, query = "") => GET(new Request(`http://localhost/api/cron/refresh-tokens${query}`, { headers: authorization === undefined ? {} : { authorization } }));

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
    ["an unknown parameter", "?horizon=1", "unknown query parameter: horizon"],
    ["a budget above the function's limit", "?budgetMs=999999", "query parameter budgetMs: must be a whole number from 100 to 45000, in plain decimal digits"],
    ["a concurrency that is no number", "?concurrency=many", "query parameter concurrency: must be a whole number from 1 to 64, in plain decimal digits"],
    // Number() and z.coerce would take these as 0 (then refused only by the bound), 16 and 1000.
    ["an empty batch size", "?batchSize=", "query parameter batchSize: must be a whole number from 1 to 500, in plain decimal digits"],
    ["a hexadecimal concurrency", "?concurrency=0x10", "query parameter concurrency: must be a whole number from 1 to 64, in plain decimal digits"],
    ["a budget in exponent notation", "?budgetMs=1e3", "query parameter budgetMs: must be a whole number from 100 to 45000, in plain decimal digits"],
  ])("answers 400 invalid_request naming %s, and sweeps nothing", async (_label, query, message) => {
    const runs = await stack.db.sweepRun.count();
    const response = await call(`Bearer ${stack.env.CRON_SECRET}`, query);
    expect(response.status).toBe(400);
    expect(await response.json()).toStrictEqual({ error: "invalid_request", message });
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
    expect(Object.keys(report).sort()).toStrictEqual(["backlog", "claimed", "durationMs", "failed", "reauthRequired", "refreshed", "skipped", "workers"]);
    expect(report).toMatchObject({ claimed: 1, refreshed: 1, failed: 0, backlog: 1, workers: 0 });
    const run = await stack.db.sweepRun.findFirstOrThrow({ orderBy: { startedAt: "desc" } });
    expect(run).toMatchObject({ claimed: 1, refreshed: 1, error: null });
    expect(run.finishedAt).not.toBeNull();
    // Delivered twice: nothing is due any more.
    expect(await (await call(`Bearer ${stack.env.CRON_SECRET}`)).json()).toMatchObject({ claimed: 0, refreshed: 0 });
  });

  it("fans out to worker invocations when the backlog is more than one run finishes, and each account is refreshed once (#13)", async () => {
    const { serveRoutes } = await import("../support/route-server");
    const worker = await import("@/app/api/cron/refresh-tokens/worker/route");
    const app = await serveRoutes({ "/api/cron/refresh-tokens": GET, "/api/cron/refresh-tokens/worker": worker.GET });
    try {
      await stack.db.account.updateMany({ data: { status: "signed_out" } });
      const seeded = [];
      for (let i = 0; i < 12; i++) seeded.push(await seedAccount(stack.db, stack, `fan-${i}`, await issueTokens(stack, `fan-${i}`), epochNow() + 30));
      const refreshes = stack.oidc!.stats.refreshRequests;
      const runs = await stack.db.sweepRun.count();
      // TOKEN_SWEEP_RUN_CAPACITY=4, TOKEN_SWEEP_MAX_WORKERS=2 (set for this file): 12 due, so the cron run plus 2 workers.
      const response = await fetch(`${app.origin}/api/cron/refresh-tokens`, { headers: { authorization: `Bearer ${stack.env.CRON_SECRET}` } });
      const report = await response.json();
      expect(report).toMatchObject({ backlog: 12, workers: 2 });
      expect(app.hits["/api/cron/refresh-tokens/worker"]).toBe(2);
      const ids = seeded.map((account) => account.accountId);
      for (let waited = 0; waited < 10_000; waited += 50) {
        const done = await stack.db.account.count({ where: { id: { in: ids }, tokenVersion: 1 } });
        if (done === ids.length && (await stack.db.sweepRun.count({ where: { finishedAt: { not: null } } })) >= runs + 3) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect((await stack.db.account.findMany({ where: { id: { in: ids } } })).map((row) => row.tokenVersion)).toStrictEqual(ids.map(() => 1));
      expect(stack.oidc!.stats.refreshRequests - refreshes).toBe(12);
      expect(await stack.db.sweepRun.count()).toBe(runs + 3);
      // Workers answer only with the cron's secret.
      expect((await fetch(`${app.origin}/api/cron/refresh-tokens/worker`)).status).toBe(401);
    } finally {
      await app.close();
    }
  });

  it("leaves a paused provider's due accounts out of the backlog until the pause ends", async () => {
    await stack.db.account.updateMany({ data: { status: "signed_out" } });
    for (let i = 0; i < 3; i++) await seedAccount(stack.db, stack, `paused-${i}`, await issueTokens(stack, `paused-${i}`), epochNow() + 30);
    await stack.db.providerPause.create({ data: { provider: "oidc", error: "invalid_client", pausedUntil: new Date(Date.now() + 3_600_000) } });
    try {
      const refreshes = stack.oidc!.stats.refreshRequests;
      expect(await (await call(`Bearer ${stack.env.CRON_SECRET}`)).json()).toMatchObject({ claimed: 0, backlog: 0, workers: 0 });
      expect(stack.oidc!.stats.refreshRequests).toBe(refreshes);
      // The pause over (its row stays until a refresh works), the same accounts are the backlog again.
      await stack.db.providerPause.update({ where: { provider: "oidc" }, data: { pausedUntil: new Date(Date.now() - 1000) } });
      expect(await (await call(`Bearer ${stack.env.CRON_SECRET}`)).json()).toMatchObject({ backlog: 3, workers: 0 });
    } finally {
      await stack.db.providerPause.deleteMany();
    }
  });
});
