import { afterResponse } from "@/lib/background";
import { otherMethods } from "@/lib/methods";
import { cronRoute } from "@/lib/cron-route";
import { tokenkeeper } from "@/lib/tokenkeeper";
import { sweepExpiringTokens } from "@/lib/tokens/sweep";
import { policyFromQuery } from "@/lib/tokens/sweep-policy";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";
export const maxDuration = 60;

// One more sweep run, started by the cron route when the backlog is large: it answers
// 202 at once and sweeps after the response, with its own budget.
export const GET = cronRoute(async (request) => {
  const { db, engine, sweepPolicy } = tokenkeeper();
  const policy = policyFromQuery(new URL(request.url).searchParams, sweepPolicy);
  afterResponse("worker.crashed", () => sweepExpiringTokens({ db, engine, ...policy, role: "worker" }));
  return Response.json({ started: true }, { status: 202 });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
