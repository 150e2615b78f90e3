import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startCronRunner, type CronRunner } from "@/dev/cron-runner";
import { epochNow, issueTokens, seedAccount } from "../../testkit/grants";
import { serveRoutes } from "../support/route-server";
import { startTestStack, type TestStack } from "../../testkit/stack";

// The local cron runner on real minute ticks against the real cron route over HTTP:
// with nobody calling the route, an account that is due gets refreshed.
let stack: TestStack;
let app: Awaited<ReturnType<typeof serveRoutes>>;
let runner: CronRunner | undefined;
const requests: { path: string; method: string; userAgent: string | null; bearer: boolean }[] = [];
let releaseSlow: () => void = () => {};
const slow = new Promise<void>((resolve) => (releaseSlow = resolve));
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  stack = await startTestStack("pglite", { DEV_OIDC_ACCESS_TOKEN_TTL: "3600" });
  process.env.TOKENKEEPER_LOG_LEVEL = "info"; // the runner's lines are info
  const { GET } = await import("@/app/api/cron/refresh-tokens/route");
  const worker = await import("@/app/api/cron/refresh-tokens/worker/route");
  const recorded = (handler: (request: Request) => Promise<Response>) => async (request: Request) => {
    const url = new URL(request.url);
    requests.push({ path: url.pathname, method: request.method, userAgent: request.headers.get("user-agent"), bearer: request.headers.get("authorization") === `Bearer ${stack.env.CRON_SECRET}` });
    return handler(request);
  };
  app = await serveRoutes({
    "/api/cron/refresh-tokens": recorded(GET),
    "/api/cron/refresh-tokens/worker": worker.GET,
    // A cron path whose first run outlasts the next tick.
    "/api/cron/slow": recorded(async () => {
      await slow;
      return Response.json({ done: true });
    }),
  });
  vi.spyOn(console, "log").mockImplementation((line: string) => {
    if (typeof line === "string" && line.includes('"logger":"cron-runner"')) lines.push(JSON.parse(line));
  });
});
afterAll(async () => {
  runner?.stop();
  releaseSlow();
  vi.restoreAllMocks();
  await app?.close();
  await stack?.stop();
});

const waitFor = async (done: () => Promise<boolean> | boolean, ms: number) => {
  for (let waited = 0; waited < ms && !(await done()); waited += 250) await new Promise((resolve) => setTimeout(resolve, 250));
};

describe("the local cron runner", () => {
  it("sweeps on the minute with nobody calling the route, as Vercel calls it, and skips a tick while a run is still going", async () => {
    const seeded = await seedAccount(stack.db, stack, "cron-runner-user", await issueTokens(stack, "cron-runner-user"), epochNow() + 30);
    const refreshes = stack.oidc!.stats.refreshRequests;
    runner = startCronRunner({
      baseUrl: app.origin,
      cronSecret: stack.env.CRON_SECRET,
      jobs: [
        { path: "/api/cron/refresh-tokens", schedule: "* * * * *" },
        { path: "/api/cron/slow", schedule: "* * * * *" },
      ],
    });

    // First tick (within a minute): the sweep refreshes the due account.
    const refreshed = async () => (await stack.db.account.findUniqueOrThrow({ where: { id: seeded.accountId } })).tokenVersion === 1;
    await waitFor(refreshed, 65_000);
    expect(await refreshed()).toBe(true);
    expect(stack.oidc!.stats.refreshRequests - refreshes).toBe(1);
    // Both paths fire on the same tick, in either order.
    expect(requests.find((request) => request.path === "/api/cron/refresh-tokens")).toStrictEqual({ path: "/api/cron/refresh-tokens", method: "GET", userAgent: "vercel-cron/1.0", bearer: true });
    await waitFor(() => lines.some((line) => line.event === "cron.run"), 5_000);
    expect(lines.find((line) => line.event === "cron.run")).toMatchObject({
      level: "info",
      path: "/api/cron/refresh-tokens",
      status: 200,
      answer: { claimed: 1, refreshed: 1, failed: 0 },
    });

    // Second tick: the sweep runs again (nothing is due), the slow path is skipped.
    await waitFor(() => lines.some((line) => line.event === "cron.skipped"), 65_000);
    expect(lines.filter((line) => line.event === "cron.skipped")).toMatchObject([{ path: "/api/cron/slow", reason: "previous run still going" }]);
    expect(requests.filter((request) => request.path === "/api/cron/slow")).toHaveLength(1);
    await waitFor(() => lines.filter((line) => line.event === "cron.run").length >= 2, 10_000);
    expect(lines.filter((line) => line.event === "cron.run")[1]).toMatchObject({ path: "/api/cron/refresh-tokens", status: 200, answer: { claimed: 0 } });

    // Released, the slow run ends in one line of its own.
    releaseSlow();
    await waitFor(() => lines.some((line) => line.event === "cron.run" && line.path === "/api/cron/slow"), 5_000);
    expect(lines.find((line) => line.path === "/api/cron/slow" && line.event === "cron.run")).toMatchObject({ status: 200, answer: { done: true } });
    expect(JSON.stringify(lines)).not.toContain(stack.env.CRON_SECRET);
  }, 180_000);
});
