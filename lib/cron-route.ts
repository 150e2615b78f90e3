import "server-only";
import { hasBearer } from "./bearer";
import { cronSecret } from "./env";
import { errorResponse, unauthorized } from "./errors";
import { logger } from "./log";

// Kept apart from lib/route.ts, which loads Auth.js: a cron function needs none of it.
const log = logger("cron");

/**
 * A route for Vercel's cron (and the workers it starts): the bearer first, so a caller
 * without CRON_SECRET learns nothing, not even what is missing; errors via errorResponse.
 */
export function cronRoute(handler: (request: Request, secret: string) => Promise<Response>) {
  return async (request: Request): Promise<Response> => {
    const secret = cronSecret();
    if (!secret || !hasBearer(request.headers.get("authorization"), secret)) {
      if (!secret) log.error("cron.refused", { reason: "CRON_SECRET is not set: the cron routes refuse every request until it is." });
      return errorResponse(unauthorized("Missing or wrong bearer secret."));
    }
    try {
      return await handler(request, secret);
    } catch (error) {
      return errorResponse(error);
    }
  };
}
