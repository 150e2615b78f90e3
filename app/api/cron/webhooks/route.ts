import { dueWebhookDeliveries } from "@/lib/cron-jobs";
import { cronRoute } from "@/lib/cron-route";
import { otherMethods } from "@/lib/methods";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";
export const maxDuration = 60;

// Every minute (vercel.json): webhook deliveries whose retry is due. The first retry
// comes 30 s after a failed attempt, so within a minute of it.
export const GET = cronRoute(async () => Response.json(await dueWebhookDeliveries()));

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
