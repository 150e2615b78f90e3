import { afterResponse } from "@/lib/background";
import { db } from "@/lib/db/client";
import { otherMethods } from "@/lib/methods";
import { cronRoute } from "@/lib/cron-route";
import { appSweepPolicy, tokenEngine } from "@/lib/tokens";
import { sweepExpiringTokens } from "@/lib/tokens/sweep";
import { policyFromQuery } from "@/lib/tokens/sweep-policy";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";
export const maxDuration = 60;

// One more sweep run, started by the cron route when the backlog is large: it answers
// 202 at once and sweeps after the response, with its own budget.
export const GET = cronRoute(async (request) => {
  const policy = policyFromQuery(new URL(request.url).searchParams, appSweepPolicy());
  afterResponse("worker.crashed", () => sweepExpiringTokens({ db: db(), engine: tokenEngine(), ...policy, role: "worker" }));
  return Response.json({ started: true }, { status: 202 });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
