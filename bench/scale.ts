// `npm run bench -- scale`: the figures for a million accounts (issue #13). Each is
// measured here, or the line says why it was left out. The provider runs in a process
// of its own; the database is the PostgreSQL server TEST_POSTGRES_URL names when set.
import { fork, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { encode } from "next-auth/jwt";
import pg from "pg";
import { claimDueAccounts, countDueAccounts } from "@/lib/db/refresh";
import { createDb } from "@/lib/db/client";
import { startNeonEndpoint } from "@/ops/neon-endpoint";
import { openPostgres } from "@/ops/sql-backend";
import { DEFAULT_SWEEP_POLICY, LAST_USED_GRANULARITY_MS, nextSweepAt, type SweepPolicy } from "@/lib/tokens/sweep-policy";
import { bundleMiddleware, startWorker } from "../testkit/edge-bundle";
import { seedMany, type SeededAccount } from "../testkit/grants";
import { dropPostgresDatabase, engineFor, freshPostgresDatabase, startTestStack, sweepOnce, type TestStack } from "../testkit/stack";
import { median, ms, table, timed } from "./stats";

const ROOT = join(import.meta.dirname, "..");

// ---------------------------------------------------------------- the provider, apart

type Provider = { issuer: string; set(latency: { delayMs: number; jitter: number }): Promise<void>; refreshes(): Promise<number>; stop(): void };

async function providerProcess(clientId: string, clientSecret: string): Promise<Provider> {
  const child: ChildProcess = fork(join(ROOT, "bench/provider-process.ts"), {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, BENCH_CLIENT_ID: clientId, BENCH_CLIENT_SECRET: clientSecret },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const next = <T>(key: string) =>
    new Promise<T>((resolve) => {
      const listener = (message: Record<string, unknown>) => {
        if (key in message) {
          child.off("message", listener);
          resolve(message[key] as T);
        }
      };
      child.on("message", listener);
    });
  const issuer = await next<string>("issuer");
  return {
    issuer,
    async set(latency) {
      const acknowledged = next("latency");
      child.send(latency);
      await acknowledged;
    },
    async refreshes() {
      const stats = next<{ refreshRequests: number }>("stats");
      child.send({ stats: true });
      return (await stats).refreshRequests;
    },
    stop: () => child.disconnect(),
  };
}

// ---------------------------------------------------------------- sweep throughput

async function makeDue(stack: TestStack, accounts: SeededAccount[]) {
  await stack.db.account.updateMany({
    where: { id: { in: accounts.map((a) => a.accountId) } },
    data: { status: "active", nextSweepAt: new Date(Date.now() - 1000), retryAfter: null, leaseOwner: null },
  });
}

async function sweepRate(stack: TestStack, accounts: SeededAccount[], concurrency: number, sweepers = 1, budgetMs = 120_000) {
  await stack.db.account.updateMany({ data: { status: "signed_out" } });
  await makeDue(stack, accounts);
  const trips = stack.endpoint!.requests();
  const started = performance.now();
  const reports = await Promise.all(Array.from({ length: sweepers }, () => sweepOnce(stack, { engine: engineFor(stack), concurrency, budgetMs })));
  const seconds = (performance.now() - started) / 1000;
  const refreshed = reports.reduce((sum, report) => sum + report.refreshed, 0);
  return { refreshed, perSecond: refreshed / seconds, tripsPerAccount: (stack.endpoint!.requests() - trips) / refreshed };
}

async function benchSweeps(stack: TestStack, provider: Provider) {
  console.log("\n## Sweep throughput: token endpoint in its own process, 100 ms ± 50 %\n");
  const accounts = await seedMany(stack.db, stack, "scale", 640, () => Math.floor(Date.now() / 1000) + 3600);
  const rows: (string | number)[][] = [];
  let ofLimit32 = 0;
  for (const [concurrency, count] of [
    [1, 40],
    [8, 240],
    [32, 640],
  ] as const) {
    const set = accounts.slice(0, count);
    await provider.set({ delayMs: 0, jitter: 0 });
    const bare = await sweepRate(stack, set, concurrency);
    await provider.set({ delayMs: 100, jitter: 0.5 });
    const loaded = await sweepRate(stack, set, concurrency);
    const limit = Math.min(concurrency / 0.1, bare.perSecond);
    if (concurrency === 32) ofLimit32 = loaded.perSecond / limit;
    rows.push([
      concurrency,
      loaded.refreshed,
      loaded.perSecond.toFixed(1),
      bare.perSecond.toFixed(0),
      limit.toFixed(0),
      `${((100 * loaded.perSecond) / limit).toFixed(0)}%`,
      loaded.tripsPerAccount.toFixed(3),
    ]);
  }
  table(["concurrency", "refreshed", "refreshed/s", "same code, no latency (/s)", "limit min(c ÷ 0.1 s, no-latency)", "of limit", "DB round trips per account"], rows);
  console.log(`\nsweep-of-limit c=32: ${ofLimit32.toFixed(2)}`);

  console.log("\n## K parallel sweepers (concurrency 8 each), token endpoint 500 ms ± 50 %, 4 s budget each\n");
  await provider.set({ delayMs: 500, jitter: 0.5 });
  const parallel: { k: number; perSecond: number; trips: number; refreshed: number }[] = [];
  for (const k of [1, 2, 4, 8]) {
    const result = await sweepRate(stack, accounts, 8, k, 4_000);
    parallel.push({ k, perSecond: result.perSecond, trips: result.tripsPerAccount, refreshed: result.refreshed });
  }
  const one = parallel[0]!.perSecond;
  table(
    ["sweepers K", "refreshed", "refreshed/s", "× K=1", "linearity (÷ K)", "DB round trips per account"],
    parallel.map((p) => [p.k, p.refreshed, p.perSecond.toFixed(1), (p.perSecond / one).toFixed(2), (p.perSecond / (p.k * one)).toFixed(2), p.trips.toFixed(3)]),
  );
  console.log(`\nsweep-linearity K=8: ${(parallel[3]!.perSecond / (8 * one)).toFixed(3)}`);
  await provider.set({ delayMs: 0, jitter: 0 });
  return ofLimit32;
}

// ---------------------------------------------------------------- repeat calls

/** A job's 1,000 getAccessToken calls as one user, fresh token: database round trips (endpoint requests). */
async function benchRepeatCalls(stack: TestStack) {
  console.log("\n## Repeat calls: 1,000 getAccessToken calls as one user, token fresh (round trips = requests at the local Neon endpoint)\n");
  const [account] = await seedMany(stack.db, stack, "repeat", 1, () => Math.floor(Date.now() / 1000) + 3600);
  const run = async (tokenCacheTtlSeconds?: number) => {
    const engine = engineFor(stack, { tokenCacheTtlSeconds });
    const before = stack.endpoint!.requests();
    const [, took] = await timed(async () => {
      for (let i = 0; i < 1000; i++) await engine.getAccessToken(account!.userId, "oidc");
    });
    await new Promise((resolve) => setTimeout(resolve, 200)); // a use record, if any, lands
    return { trips: stack.endpoint!.requests() - before, took };
  };
  const uncached = await run(0);
  const cached = await run();
  table(
    ["", "round trips per 1,000 calls", "wall time"],
    [
      ["TOKEN_CACHE_TTL_SECONDS=0", uncached.trips, ms(uncached.took)],
      ["default (30 s)", cached.trips, ms(cached.took)],
    ],
  );
  console.log(`\nrepeat-calls round-trips/1000: ${cached.trips}`);
  return cached.trips;
}

// ---------------------------------------------------------------- a million rows

async function benchMillion() {
  console.log("\n## One million accounts in PostgreSQL: the due count and the claim\n");
  if (!process.env.TEST_POSTGRES_URL) {
    console.log("left out: needs a PostgreSQL server (TEST_POSTGRES_URL; see .ci/start-postgres.sh)");
    return;
  }
  const url = await freshPostgresDatabase();
  const backend = openPostgres(url, 4);
  const { applyMigrations } = await import("@/ops/migrations");
  await applyMigrations(backend);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const [, generation] = await timed(async () => {
    await client.query(`INSERT INTO "User" (id, "updatedAt") SELECT 'u' || g, now() FROM generate_series(1, 1000000) g`);
    // 10 % used this week (due within the hour, 5,000 of them now), 90 % idle (keep-alive spread over 7 days).
    await client.query(`
      INSERT INTO "Account" (id, "userId", type, provider, "providerAccountId", refresh_token, access_token, expires_at, "refreshedAt", "lastUsedAt", "nextSweepAt", "updatedAt")
      SELECT 'a' || g, 'u' || g, 'oidc', 'oidc', 'p' || g, 'ciphertext', 'ciphertext',
             extract(epoch FROM now())::int + 3600,
             now() - (random() * interval '7 days'),
             CASE WHEN g % 10 = 0 THEN now() - random() * interval '7 days' ELSE now() - interval '30 days' END,
             CASE WHEN g <= 5000 THEN now() - random() * interval '10 minutes'
                  WHEN g % 10 = 0 THEN now() + random() * interval '1 hour'
                  ELSE now() + random() * interval '7 days' END,
             now()
        FROM generate_series(1, 1000000) g`);
    await client.query(`ANALYZE "Account"`);
  });
  console.log(`generated 1,000,000 users and accounts in ${(generation / 1000).toFixed(1)} s\n`);
  const endpoint = await startNeonEndpoint(backend, { connectionString: url });
  const db = createDb(url, endpoint.url);
  const counts: number[] = [];
  const claims: number[] = [];
  for (let i = 0; i < 20; i++) counts.push((await timed(() => countDueAccounts(db, { providers: ["oidc"], cap: 5_000 })))[1]);
  // One run claiming 4,500 of the 5,000 due accounts, 50 at a time: its claims must
  // not grow with what it claimed already (#23: they sent every claimed id before).
  const runStart = new Date();
  for (let i = 0; i < 90; i++) {
    const [batch, took] = await timed(() =>
      claimDueAccounts(db, { owner: `bench-${i}`, providers: ["oidc"], leaseMs: 60_000, limit: 50, notWrittenSince: runStart, undecryptableMarker: "undecryptable under keys bench:" }),
    );
    claims.push(took);
    if (batch.length !== 50) throw new Error(`claim ${i} returned ${batch.length} rows`);
  }
  // The same statement straight over the wire, for the database's own share.
  const wire: number[] = [];
  for (let i = 0; i < 20; i++) {
    wire.push(
      (
        await timed(() =>
          client.query(
            `SELECT id FROM "Account" WHERE status = 'active' AND "nextSweepAt" <= now() AND provider = ANY($1) AND refresh_token IS NOT NULL AND ("leaseUntil" IS NULL OR "leaseUntil" < now()) ORDER BY "nextSweepAt" LIMIT 50`,
            [["oidc"]],
          ),
        )
      )[1],
    );
  }
  table(
    ["statement (1,000,000 accounts)", "median", "goal"],
    [
      ["due count (capped at 5,000), app path", ms(median(counts)), "< 20 ms"],
      ["claim of a batch of 50 (UPDATE … SKIP LOCKED … RETURNING), app path", ms(median(claims)), "< 20 ms"],
      ["the same, first 20 claims of a run", ms(median(claims.slice(0, 20))), ""],
      ["the same, last 20 claims of the run (4,000+ claimed before)", ms(median(claims.slice(-20))), "≈ the first 20"],
      ["due query, batch of 50, over the wire", ms(median(wire)), "< 20 ms"],
    ],
  );
  const plan = await client.query(
    `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) SELECT id FROM "Account" WHERE status = 'active' AND "nextSweepAt" <= now() AND provider = ANY('{oidc}') AND refresh_token IS NOT NULL AND ("leaseUntil" IS NULL OR "leaseUntil" < now()) ORDER BY "nextSweepAt" LIMIT 50 FOR UPDATE SKIP LOCKED`,
  );
  console.log(`\nEXPLAIN of the claim's inner query:\n${plan.rows.map((row) => `  ${row["QUERY PLAN"]}`).join("\n")}`);
  console.log(`\nclaim-growth last/first: ${(median(claims.slice(-20)) / median(claims.slice(0, 20))).toFixed(2)}`);
  await client.end();
  await endpoint.close();
  await backend.close();
  await dropPostgresDatabase(url); // a million accounts stay on the server's disk otherwise
}

// ---------------------------------------------------------------- a simulated day

type SimAccount = { expiresAt: number; refreshedAt: number; lastUsedAt: number | null; nextSweepAt: number };
type Scenario = { name: string; visits: number; inUseAllWeek: boolean };

/**
 * 100,000 accounts for one day, cron every 10 minutes, one-hour tokens. 10 % are in
 * use at random times of the day (`visits` token hand-outs each); the rest are idle
 * (last used a month ago, keep-alive spread over the week). The 10 % come back today,
 * idle before their first use, or (inUseAllWeek) were in use all week too. The old
 * policy refreshes every token expiring within the horizon; the new one is
 * nextSweepAt(), the function the app runs.
 */
function simulateDay(policy: SweepPolicy, scenario: Scenario, accounts = 100_000) {
  const DAY = 86_400_000;
  const TOKEN_MS = 3_600_000;
  const TICK = 600_000;
  const skewMs = 60_000;
  let seed = 42;
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const inUse = (i: number) => i % 10 === 0;
  const uses: [number, number][] = [];
  for (let i = 0; i < accounts; i++) if (inUse(i)) for (let u = 0; u < scenario.visits; u++) uses.push([Math.floor(random() * DAY), i]);
  uses.sort((a, b) => a[0] - b[0]);
  const activeMs = policy.activeDays * DAY;

  // The same accounts for both policies.
  const initial: SimAccount[] = Array.from({ length: accounts }, (_, i) => {
    const steady = scenario.inUseAllWeek && inUse(i);
    const refreshedAt = steady ? -Math.floor(random() * 30 * 60_000) : -Math.floor(random() * 7 * DAY);
    const lastUsedAt = steady ? -Math.floor(random() * 6 * DAY) : -30 * DAY;
    const expiresAt = refreshedAt + TOKEN_MS;
    const schedule = { lastUsedAt: new Date(lastUsedAt), expiresAt: new Date(expiresAt), refreshedAt: new Date(refreshedAt) };
    return { expiresAt, refreshedAt, lastUsedAt, nextSweepAt: nextSweepAt(policy, schedule, new Date(0)).getTime() };
  });

  const run = (kind: "old" | "new") => {
    const state = initial.map((account) => ({ ...account }));
    let refreshes = 0;
    let expiredActive = 0; // a use by an account in use this week found its token expired
    let returningOnDemand = 0; // a first use after idleness found it expired (refreshed on the spot)
    const refresh = (account: SimAccount, at: number, used: boolean) => {
      refreshes += 1;
      account.expiresAt = at + TOKEN_MS;
      account.refreshedAt = at;
      if (used) account.lastUsedAt = at;
      const schedule = { lastUsedAt: account.lastUsedAt === null ? null : new Date(account.lastUsedAt), expiresAt: new Date(account.expiresAt), refreshedAt: new Date(at) };
      account.nextSweepAt = nextSweepAt(policy, schedule, new Date(at)).getTime();
    };
    let next = 0;
    for (let tick = 0; tick < DAY; tick += TICK) {
      for (; next < uses.length && uses[next]![0] < tick; next++) {
        const [at, i] = uses[next]!;
        const account = state[i]!;
        const active = account.lastUsedAt !== null && at - account.lastUsedAt <= activeMs;
        if (account.expiresAt <= at) {
          if (active) expiredActive += 1;
          else returningOnDemand += 1;
        }
        if (account.expiresAt - at <= skewMs)
          refresh(account, at, true); // on demand
        else if (account.lastUsedAt === null || at - account.lastUsedAt >= LAST_USED_GRANULARITY_MS) {
          account.lastUsedAt = at;
          const schedule = { lastUsedAt: new Date(at), expiresAt: new Date(account.expiresAt), refreshedAt: new Date(account.refreshedAt) };
          account.nextSweepAt = Math.min(account.nextSweepAt, nextSweepAt(policy, schedule, new Date(at)).getTime());
        }
      }
      for (const account of state) {
        const due = kind === "old" ? account.expiresAt < tick + policy.horizonSeconds * 1000 || tick - account.refreshedAt > policy.keepaliveDays * DAY : account.nextSweepAt <= tick;
        if (due) refresh(account, tick, false);
      }
    }
    return { refreshes, expiredActive, returningOnDemand };
  };
  return { old: run("old"), new: run("new"), uses: uses.length };
}

function benchPolicy() {
  console.log("\n## A simulated day: 100,000 accounts, 10 % in use at random times, one-hour tokens, cron every 10 minutes\n");
  const scenarios: Scenario[] = [
    { name: "each of the 10 % active once, at a random time", visits: 1, inUseAllWeek: false },
    { name: "each of the 10 % back today, 8 visits", visits: 8, inUseAllWeek: false },
    { name: "the 10 % in use all week, 8 visits today", visits: 8, inUseAllWeek: true },
  ];
  const rows: (string | number)[][] = [];
  const results = scenarios.map((scenario) => ({ scenario, result: simulateDay(DEFAULT_SWEEP_POLICY, scenario) }));
  for (const { scenario, result } of results) {
    for (const [name, run] of [
      ["today's", result.old],
      ["work follows use", result.new],
    ] as const) {
      rows.push([scenario.name, name, run.refreshes, (run.refreshes / 100_000).toFixed(2), run.expiredActive, run.returningOnDemand]);
    }
    rows.push([scenario.name, "reduction", `${(result.old.refreshes / result.new.refreshes).toFixed(1)}×`, "", "", ""]);
  }
  table(["scenario", "policy", "provider refreshes per day", "per account", "expired token met by an account in use", "first use after idleness, refreshed on demand"], rows);
  console.log("\nA token kept fresh all day costs 24+ refreshes with one-hour tokens: the reduction is the share of the day accounts are not in use.");
  const { result } = results[0]!;
  console.log(`policy-refreshes-per-day old=${result.old.refreshes} new=${result.new.refreshes} expired-handed-out=${result.new.expiredActive}`);
}

// ---------------------------------------------------------------- the edge check's CPU

async function benchEdgeCpu() {
  console.log("\n## Session check CPU in workerd: 500 checks inside one request, median of 7 rounds\n");
  const SECRET = "bench-secret-0123456789abcdefghij";
  const mint = async () => `authjs.session-token=${await encode({ token: { sub: "u1" }, secret: SECRET, salt: "authjs.session-token" })}`;
  const cookie = await mint();
  const variants = {
    lean: join(ROOT, "middleware.ts"),
    authjs: join(ROOT, "testkit/edge-entries/authjs-middleware.ts"),
  };
  const perCheck: Record<string, number[]> = { lean: [], authjs: [] };
  const firstSight: Record<string, number[]> = { lean: [], authjs: [] };
  const workers: Record<string, Miniflare> = {};
  for (const [name, file] of Object.entries(variants)) {
    const bundle = await bundleMiddleware(file, { AUTH_SECRET: SECRET }, "many-checks.ts");
    workers[name] = startWorker(bundle.code);
  }
  // `cookies`: one cookie each check, all new to the isolate (POST body); else the same cookie every check.
  const call = async (name: string, checks: number, cookies?: string[]) => {
    const init = cookies ? { method: "POST", body: JSON.stringify(cookies) } : {};
    const response = await workers[name]!.dispatchFetch("http://localhost:3000/dashboard", { ...init, headers: { cookie, "x-checks": String(checks), "x-forwarded-proto": "http" } });
    if (Number(await response.text()) !== checks) throw new Error(`${name} did not pass every check`);
  };
  for (const name of Object.keys(variants)) for (let i = 0; i < 3; i++) await call(name, 200); // warm
  for (let round = 0; round < 7; round++) {
    const fresh = await Promise.all(Array.from({ length: 501 }, mint));
    for (const name of Object.keys(variants)) {
      const [, one] = await timed(() => call(name, 1));
      const [, many] = await timed(() => call(name, 501));
      perCheck[name]!.push((many - one) / 500);
      // The first check of each cookie (a new session, or a new isolate): no reuse possible.
      const [, oneNew] = await timed(() => call(name, 1, fresh));
      const [, manyNew] = await timed(() => call(name, 501, fresh));
      firstSight[name]!.push((manyNew - oneNew) / 500);
    }
  }
  for (const worker of Object.values(workers)) await worker.dispose();
  const lean = median(perCheck.lean!);
  const authjs = median(perCheck.authjs!);
  table(
    ["variant", "CPU per check (median), the browser's same cookie again", "first sight of each cookie"],
    [
      ["lean (middleware.ts)", ms(lean), ms(median(firstSight.lean!))],
      ["NextAuth(authConfig).auth", ms(authjs), ms(median(firstSight.authjs!))],
    ],
  );
  console.log(`\nedge-check-cpu lean/authjs: ${(lean / authjs).toFixed(3)}`);
  console.log(`edge-check-cpu first-sight lean/authjs: ${(median(firstSight.lean!) / median(firstSight.authjs!)).toFixed(3)}`);
  return lean / authjs;
}

export async function benchScale() {
  benchPolicy();
  const edgeRatio = await benchEdgeCpu();
  await benchMillion();
  const clientId = "tokenkeeper-bench";
  const clientSecret = crypto.randomUUID();
  const provider = await providerProcess(clientId, clientSecret);
  const backend = process.env.TEST_POSTGRES_URL ? "postgres" : "pglite";
  const stack = await startTestStack(backend, { AUTH_OIDC_ISSUER: provider.issuer, AUTH_OIDC_ID: clientId, AUTH_OIDC_SECRET: clientSecret });
  const withProvider = { ...stack, env: { ...stack.env, AUTH_OIDC_ISSUER: provider.issuer, AUTH_OIDC_ID: clientId, AUTH_OIDC_SECRET: clientSecret } };
  try {
    console.log(`\n(database: ${backend === "postgres" ? "PostgreSQL server" : "embedded PGlite"} behind the local Neon endpoint)`);
    const repeatTrips = await benchRepeatCalls(withProvider);
    const ofLimit = await benchSweeps(withProvider, provider);
    console.log("\n## Figures and goals (issue #23), this run\n");
    table(
      ["figure", "measured", "goal"],
      [
        ["repeat-calls round-trips/1000", repeatTrips, "≤ 1 (the first call's read)"],
        ["sweep-of-limit c=32", ofLimit.toFixed(2), "≥ 0.90"],
        ["edge-check-cpu lean/authjs", edgeRatio.toFixed(3), "≤ 0.200"],
      ],
    );
  } finally {
    await stack.stop();
    provider.stop();
  }
}
