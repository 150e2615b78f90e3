import { otherMethods } from "@/lib/methods";
import { cronRoute } from "@/lib/cron-route";
import { tokenkeeper } from "@/lib/tokenkeeper";
import { deliverDueWebhooks } from "@/lib/webhooks";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";
export const maxDuration = 60;

// Every minute (vercel.json): webhook deliveries whose retry is due. The first retry
// comes 30 s after a failed attempt, so within a minute of it.
export const GET = cronRoute(async () => {
  const { db, events } = tokenkeeper();
  if (!events.webhook) return Response.json({ attempted: 0, delivered: 0, failed: 0, gaveUp: 0 });
  return Response.json(await deliverDueWebhooks(db, events.webhook, { limit: 500 }));
});

export const { POST, PUT, PATCH, DELETE } = otherMethods("GET");
