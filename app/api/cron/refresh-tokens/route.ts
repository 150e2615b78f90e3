import { hasBearer } from "@/lib/bearer";
import { db } from "@/lib/db/client";
import { cronSecret } from "@/lib/env";
import { errorResponse, unauthorized } from "@/lib/errors";
import { logger } from "@/lib/log";
import { appSweepPolicy, tokenEngine } from "@/lib/tokens";
import { sweepExpiringTokens } from "@/lib/tokens/sweep";
import { policyFromQuery } from "@/lib/tokens/sweep-policy";

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
    const policy = policyFromQuery(new URL(request.url).searchParams, appSweepPolicy());
    return Response.json(await sweepExpiringTokens({ db: db(), engine: tokenEngine(), ...policy }));
  } catch (error) {
    return errorResponse(error);
  }
}
