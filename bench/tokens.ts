// Refresh engine and sweep benchmarks against the real dev provider and a real
// database behind the local Neon endpoint (round trips = endpoint requests).
import { decryptToken, encryptToken, parseKeyring } from "@/lib/tokens/crypto";
import { refreshGrant } from "@/lib/providers/requests";
import { providerSpecs } from "@/lib/providers";
import { epochNow, issueTokens, seedAccount, seedMany } from "../testkit/grants";
import { engineFor, startTestStack, sweepOnce, type TestStack } from "../testkit/stack";
import { median, ms, table, timed } from "./stats";

const roundTrips = (stack: TestStack) => stack.endpoint!.requests();
const alive = (survived: boolean) => (survived ? "yes" : "no (revoked)");

async function freshPath(stack: TestStack) {
  const account = await seedAccount(stack.db, stack, "bench-fresh", await issueTokens(stack, "bench-fresh"), epochNow() + 3600);
  // The read every call would make without the token cache (repeat calls: `npm run bench -- scale`).
  const engine = engineFor(stack, { tokenCacheTtlSeconds: 0 });
  await engine.getAccessToken(account.userId, "oidc"); // warm
  const times: number[] = [];
  const before = roundTrips(stack);
  const n = 200;
  for (let i = 0; i < n; i++) times.push((await timed(() => engine.getAccessToken(account.userId, "oidc")))[1]);
  return { median: median(times), roundTrips: (roundTrips(stack) - before) / n };
}

async function refreshPath(stack: TestStack) {
  const spec = providerSpecs(stack.env).get("oidc")!;
  const accounts = await seedMany(stack.db, stack, "bench-refresh", 60, () => epochNow() - 10);
  const engine = engineFor(stack);
  // The provider's own answer time: the refresh grant alone, on separate grants.
  const providerTimes: number[] = [];
  for (const account of accounts.slice(0, 30)) {
    providerTimes.push((await timed(() => refreshGrant(spec, account.tokens.refreshToken)))[1]);
  }
  const times: number[] = [];
  const before = roundTrips(stack);
  for (const account of accounts.slice(30)) times.push((await timed(() => engine.getAccessToken(account.userId, "oidc")))[1]);
  const trips = (roundTrips(stack) - before) / 30;
  return { median: median(times), provider: median(providerTimes), roundTrips: trips };
}

/** Does the account's stored refresh token still work at the provider? (Uses it up: call last.) */
async function grantAlive(stack: TestStack, accountId: string): Promise<boolean> {
  const spec = providerSpecs(stack.env).get("oidc")!;
  const keyring = parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS);
  const row = await stack.db.account.findUniqueOrThrow({ where: { id: accountId } });
  return refreshGrant(spec, await decryptToken(keyring, row.refresh_token!, row, "refresh_token")).then(
    () => true,
    () => false,
  );
}

async function storm(stack: TestStack, callers: number) {
  const account = await seedAccount(stack.db, stack, `bench-storm-${callers}`, await issueTokens(stack, `bench-storm-${callers}`), epochNow() - 5);
  const instances = [engineFor(stack), engineFor(stack)];
  const provider = stack.oidc!.stats.refreshRequests;
  const invalid = stack.oidc!.stats.invalidGrants;
  const before = roundTrips(stack);
  const [tokens, wall] = await timed(() => Promise.allSettled(Array.from({ length: callers }, (_, i) => instances[i % 2]!.getAccessToken(account.userId, "oidc"))));
  const ok = tokens.filter((t) => t.status === "fulfilled");
  return {
    wall,
    providerCalls: stack.oidc!.stats.refreshRequests - provider,
    invalidGrants: stack.oidc!.stats.invalidGrants - invalid,
    answered: ok.length,
    distinct: new Set(ok.map((t) => (t as PromiseFulfilledResult<string>).value)).size,
    roundTrips: roundTrips(stack) - before,
    grantSurvived: await grantAlive(stack, account.accountId),
  };
}

/**
 * The pattern of Auth.js's refresh guide, per request: read the row, and if the
 * token expired, refresh with the stored refresh token and write the answer back.
 * No lease, no single-flight: what every request does at the moment of expiry.
 */
async function naiveStorm(stack: TestStack, callers: number) {
  const spec = providerSpecs(stack.env).get("oidc")!;
  const keyring = parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS);
  const account = await seedAccount(stack.db, stack, `bench-naive-${callers}`, await issueTokens(stack, `bench-naive-${callers}`), epochNow() - 5);
  const provider = stack.oidc!.stats.refreshRequests;
  const invalid = stack.oidc!.stats.invalidGrants;
  const request = async () => {
    const row = await stack.db.account.findUniqueOrThrow({ where: { id: account.accountId } });
    if (row.expires_at! > epochNow()) return decryptToken(keyring, row.access_token!, row, "access_token");
    const tokens = await refreshGrant(spec, await decryptToken(keyring, row.refresh_token!, row, "refresh_token"));
    if (!tokens.usable) throw tokens.error;
    await stack.db.account.update({
      where: { id: row.id },
      data: {
        access_token: await encryptToken(keyring, tokens.accessToken, row, "access_token"),
        refresh_token: await encryptToken(keyring, tokens.refreshToken, row, "refresh_token"),
        expires_at: Math.floor(tokens.expiresAt!.getTime() / 1000),
      },
    });
    return tokens.accessToken;
  };
  const results = await Promise.allSettled(Array.from({ length: callers }, request));
  const providerCalls = stack.oidc!.stats.refreshRequests - provider;
  const invalidGrants = stack.oidc!.stats.invalidGrants - invalid;
  return {
    providerCalls,
    invalidGrants,
    answered: results.filter((r) => r.status === "fulfilled").length,
    // What the user is left with: does the stored token still work at the provider?
    grantSurvived: await grantAlive(stack, account.accountId),
  };
}

async function sweepThroughput(stack: TestStack, concurrency: number, accounts: number, latencyMs: number) {
  const seeded = await seedMany(stack.db, stack, `bench-sweep-${concurrency}`, accounts, () => epochNow() + 7200);
  await stack.db.account.updateMany({ where: { id: { notIn: seeded.map((a) => a.accountId) } }, data: { status: "signed_out" } });
  await stack.db.account.updateMany({ where: { id: { in: seeded.map((a) => a.accountId) } }, data: { expires_at: epochNow() + 60, nextSweepAt: new Date() } });
  stack.oidc!.faults.token = (request) => (request.grantType === "refresh_token" ? { delayMs: latencyMs } : undefined);
  const before = roundTrips(stack);
  const report = await sweepOnce(stack, { engine: engineFor(stack), concurrency, horizonSeconds: 300, budgetMs: 120_000 });
  stack.oidc!.faults.token = undefined;
  const trips = roundTrips(stack) - before;
  await stack.db.account.updateMany({ where: { id: { in: seeded.map((a) => a.accountId) } }, data: { status: "signed_out" } });
  return { refreshed: report.refreshed, perSecond: report.refreshed / (report.durationMs / 1000), limit: concurrency / (latencyMs / 1000), tripsPerAccount: trips / report.refreshed, trips };
}

export async function benchTokens() {
  const backend = process.env.TEST_POSTGRES_URL ? "postgres" : "pglite";
  const stack = await startTestStack(backend, { DEV_OIDC_ACCESS_TOKEN_TTL: "3600" });
  try {
    console.log(`\n## Refresh engine (database: ${backend === "postgres" ? "PostgreSQL server" : "embedded PGlite"} behind the local Neon HTTP endpoint; provider: dev oidc-provider on loopback)\n`);
    const fresh = await freshPath(stack);
    const refresh = await refreshPath(stack);
    table(
      ["path", "median latency", "DB round trips per call", "goal"],
      [
        ["fresh token, token cache off (200 calls)", ms(fresh.median), fresh.roundTrips.toFixed(2), "1"],
        ["refresh (30 expired accounts)", ms(refresh.median), refresh.roundTrips.toFixed(2), "≤ 3"],
        ["provider's refresh grant alone", ms(refresh.provider), "—", ""],
      ],
    );
    console.log(`\nadded latency of the refresh path over the provider's own answer: ${ms(refresh.median - refresh.provider)} (median minus median)\n`);

    const ours = await storm(stack, 50);
    const ours30 = await storm(stack, 30);
    const naive = await naiveStorm(stack, 30);
    table(
      ["storm at expiry (rotating refresh tokens)", "callers", "provider refresh calls", "invalid_grant", "answered", "grant alive after", "wall time", "DB round trips"],
      [
        ["Tokenkeeper, 2 instances", 50, ours.providerCalls, ours.invalidGrants, `${ours.answered} (${ours.distinct} distinct token)`, alive(ours.grantSurvived), ms(ours.wall), ours.roundTrips],
        [
          "Tokenkeeper, 2 instances",
          30,
          ours30.providerCalls,
          ours30.invalidGrants,
          `${ours30.answered} (${ours30.distinct} distinct token)`,
          alive(ours30.grantSurvived),
          ms(ours30.wall),
          ours30.roundTrips,
        ],
        ["Auth.js guide pattern", 30, naive.providerCalls, naive.invalidGrants, naive.answered, alive(naive.grantSurvived), "—", "—"],
      ],
    );

    console.log("\n## Sweep throughput (token endpoint delayed 100 ms)\n");
    const rows: (string | number)[][] = [];
    for (const [concurrency, accounts] of [
      [1, 30],
      [8, 160],
      [32, 320],
    ] as const) {
      const result = await sweepThroughput(stack, concurrency, accounts, 100);
      rows.push([concurrency, result.refreshed, result.perSecond.toFixed(1), result.limit.toFixed(0), `${((100 * result.perSecond) / result.limit).toFixed(0)}%`, result.tripsPerAccount.toFixed(3)]);
    }
    table(["concurrency", "accounts", "refreshed/s", "limit (conc. ÷ 0.1 s)", "of limit", "DB round trips per account"], rows);
  } finally {
    await stack.stop();
  }
}
