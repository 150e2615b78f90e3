import { db } from "@/lib/db/client";
import { webhookConfig } from "@/lib/env";
import { otherMethods } from "@/lib/methods";
import { cronRoute } from "@/lib/cron-route";
import { deliverDueWebhooks } from "@/lib/webhooks";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";
export const maxDuration = 60;

// Every minute (vercel.json): webhook deliveries whose retry is due. The first retry
// comes 30 s after a failed attempt, so within a minute of it.
export const GET = cronRoute(async () => {
  const config = webhookConfig();
  if (!config) return Response.json({ attempted: 0, delivered: 0, failed: 0, gaveUp: 0 });
  return Response.json(await deliverDueWebhooks(db(), config, { limit: 500 }));
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
