import { scheduledSweep } from "@/lib/cron-jobs";
import { cronRoute } from "@/lib/cron-route";
import { otherMethods } from "@/lib/methods";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";
// The sweep's own budget (45 s) stays below this, leaving room to record the run.
export const maxDuration = 60;

export const GET = cronRoute(async (request, secret) => Response.json(await scheduledSweep(new URL(request.url), secret)));

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
