import { afterResponse } from "@/lib/background";
import { hasBearer } from "@/lib/bearer";
import { db } from "@/lib/db/client";
import { cronSecret } from "@/lib/env";
import { errorResponse, unauthorized } from "@/lib/errors";
import { appSweepPolicy, tokenEngine } from "@/lib/tokens";
import { sweepExpiringTokens } from "@/lib/tokens/sweep";
import { policyFromQuery } from "@/lib/tokens/sweep-policy";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";
export const maxDuration = 60;

// One more sweep run, started by the cron route when the backlog is large: it answers
// 202 at once and sweeps after the response, with its own budget.
export async function GET(request: Request): Promise<Response> {
  const secret = cronSecret();
  if (!secret || !hasBearer(request.headers.get("authorization"), secret)) return errorResponse(unauthorized("Missing or wrong bearer secret."));
  try {
    const policy = policyFromQuery(new URL(request.url).searchParams, appSweepPolicy());
    afterResponse("worker.crashed", () => sweepExpiringTokens({ db: db(), engine: tokenEngine(), ...policy, role: "worker" }));
    return Response.json({ started: true }, { status: 202 });
  } catch (error) {
    return errorResponse(error);
  }
}
