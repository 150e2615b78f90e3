// The service API's token route over HTTP (#20): median latency and database round
// trips (local Neon endpoint requests) per call, for a stored token and for one that
// must be refreshed first.
import { createApiKey } from "@/lib/api-keys";
import { serveApp } from "../testkit/app-server";
import { epochNow, issueTokens, seedAccount, seedMany } from "../testkit/grants";
import { startTestStack } from "../testkit/stack";
import { median, ms, table, timed } from "./stats";

export async function benchServiceApi() {
  const backend = process.env.TEST_POSTGRES_URL ? "postgres" : "pglite";
  const app = await serveApp();
  // No sign-in through the app here: the grants are made directly (testkit/grants.ts).
  const stack = await startTestStack(backend, { DEV_OIDC_ACCESS_TOKEN_TTL: "3600" });
  try {
    const { key } = await createApiKey(stack.db, { name: "bench", scopes: ["tokens:read"], rate: 10_000 });
    const get = async (accountId: string) => {
      const response = await fetch(`${app.origin}/api/v1/accounts/${accountId}/token?minTtl=300`, { headers: { authorization: `Bearer ${key}` } });
      if (response.status !== 200) throw new Error(`token route answered ${response.status}: ${await response.text()}`);
      return response.json();
    };
    const fresh = await seedAccount(stack.db, stack, "bench-api-fresh", await issueTokens(stack, "bench-api-fresh"), epochNow() + 3600);
    await get(fresh.accountId); // warm: module loading, the key's last use
    const freshTimes: number[] = [];
    let before = stack.endpoint!.requests();
    for (let i = 0; i < 200; i++) freshTimes.push((await timed(() => get(fresh.accountId)))[1]);
    const freshTrips = (stack.endpoint!.requests() - before) / 200;

    // One-hour tokens issued 58 minutes ago: 2 minutes left, short of minTtl=300.
    const stale = await seedMany(stack.db, stack, "bench-api-stale", 30, () => epochNow() + 120);
    await stack.db.account.updateMany({ where: { id: { in: stale.map((account) => account.accountId) } }, data: { refreshedAt: new Date(Date.now() - 3_480_000) } });
    const staleTimes: number[] = [];
    const refreshes = stack.oidc!.stats.refreshRequests;
    before = stack.endpoint!.requests();
    for (const account of stale) staleTimes.push((await timed(() => get(account.accountId)))[1]);
    const staleTrips = (stack.endpoint!.requests() - before) / 30;
    if (stack.oidc!.stats.refreshRequests - refreshes !== 30) throw new Error(`expected 30 refreshes, the provider saw ${stack.oidc!.stats.refreshRequests - refreshes}`);

    console.log(`\n## Service API token route over HTTP (database: ${backend === "postgres" ? "PostgreSQL server" : "embedded PGlite"} behind the local Neon HTTP endpoint)\n`);
    table(
      ["GET /api/v1/accounts/{id}/token?minTtl=300", "median latency", "DB round trips per call"],
      [
        ["stored token (200 calls)", ms(median(freshTimes)), freshTrips.toFixed(2)],
        ["refreshed first (30 accounts expiring within minTtl)", ms(median(staleTimes)), staleTrips.toFixed(2)],
      ],
    );
  } finally {
    await app.close();
    await stack.stop();
  }
}
