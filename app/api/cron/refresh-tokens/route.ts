import { hasBearer } from "@/lib/bearer";
import { db } from "@/lib/db/client";
import { env } from "@/lib/env";
import { errorResponse, TokenError } from "@/lib/errors";
import { tokenEngine } from "@/lib/tokens";
import { sweepExpiringTokens } from "@/lib/tokens/sweep";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";
// The sweep's own budget (45 s) stays below this, leaving room to record the run.
export const maxDuration = 60;

export async function GET(request: Request): Promise<Response> {
  try {
    const secret = env().CRON_SECRET;
    // Without a secret the route stays shut: never an open door.
    if (!secret) throw new TokenError("config", "CRON_SECRET is not set: the cron route refuses every request until it is.");
    if (!hasBearer(request.headers.get("authorization"), secret)) {
      return Response.json({ error: "unauthorized", message: "Missing or wrong bearer secret." }, { status: 401 });
    }
    return Response.json(await sweepExpiringTokens({ db: db(), engine: tokenEngine() }));
  } catch (error) {
    return errorResponse(error);
  }
}
