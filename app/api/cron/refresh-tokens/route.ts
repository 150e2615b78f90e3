import { hasBearer } from "@/lib/bearer";
import { countDueAccounts } from "@/lib/db/accounts";
import { db } from "@/lib/db/client";
import { cronSecret } from "@/lib/env";
import { errorResponse, unauthorized } from "@/lib/errors";
import { logger } from "@/lib/log";
import { appSweepPolicy, tokenEngine } from "@/lib/tokens";
import { startWorkers } from "@/lib/tokens/fan-out";
import { sweepExpiringTokens } from "@/lib/tokens/sweep";
import { policyFromQuery, workersFor } from "@/lib/tokens/sweep-policy";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";
// The sweep's own budget (45 s) stays below this, leaving room to record the run.
export const maxDuration = 60;

const log = logger("cron");

export async function GET(request: Request): Promise<Response> {
  // The bearer first: a caller without it learns nothing, not even what is missing.
  const secret = cronSecret();
  if (!secret || !hasBearer(request.headers.get("authorization"), secret)) {
    if (!secret) log.error("cron.refused", { reason: "CRON_SECRET is not set: the cron route refuses every request until it is." });
    return errorResponse(unauthorized("Missing or wrong bearer secret."));
  }
  try {
    const url = new URL(request.url);
    const policy = policyFromQuery(url.searchParams, appSweepPolicy());
    const engine = tokenEngine();
    // More due than one run finishes in its budget: more runs, each its own invocation.
    const backlog = await countDueAccounts(db(), { providers: engine.providerIds(), cap: policy.runCapacity * (policy.maxWorkers + 1) });
    const workers = await startWorkers(url.origin, secret, workersFor(policy, backlog), url.search);
    const report = await sweepExpiringTokens({ db: db(), engine, ...policy });
    return Response.json({ ...report, backlog, workers });
  } catch (error) {
    return errorResponse(error);
  }
}
