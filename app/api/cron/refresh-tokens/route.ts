import { countDueAccounts } from "@/lib/db/refresh";
import { db } from "@/lib/db/client";
import { otherMethods } from "@/lib/methods";
import { cronRoute } from "@/lib/cron-route";
import { appSweepPolicy, tokenEngine } from "@/lib/tokens";
import { startWorkers } from "@/lib/tokens/fan-out";
import { sweepExpiringTokens } from "@/lib/tokens/sweep";
import { policyFromQuery, workersFor } from "@/lib/tokens/sweep-policy";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";
// The sweep's own budget (45 s) stays below this, leaving room to record the run.
export const maxDuration = 60;

export const GET = cronRoute(async (request, secret) => {
  const url = new URL(request.url);
  const policy = policyFromQuery(url.searchParams, appSweepPolicy());
  const engine = tokenEngine();
  // More due than one run finishes in its budget: more runs, each its own invocation.
  const backlog = await countDueAccounts(db(), { providers: engine.providerIds(), cap: policy.runCapacity * (policy.maxWorkers + 1) });
  const workers = await startWorkers(url.origin, secret, workersFor(policy, backlog), url.search);
  const report = await sweepExpiringTokens({ db: db(), engine, ...policy });
  return Response.json({ ...report, backlog, workers });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
