import { workerSweep } from "@/lib/cron-jobs";
import { cronRoute } from "@/lib/cron-route";
import { otherMethods } from "@/lib/methods";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";
// The worker sweeps after its response, within this (its budget, 45 s, stays below).
export const maxDuration = 60;

// One more sweep run, started by the cron route when the backlog is large: it answers
// 202 at once and sweeps after the response, with its own budget.
export const GET = cronRoute(async (request) => {
  workerSweep(new URL(request.url));
  return Response.json({ started: true }, { status: 202 });
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
