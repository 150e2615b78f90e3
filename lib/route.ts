import "server-only";
import { auth } from "@/auth";
import { errorResponse, AppError, unauthorized } from "./errors";
import { isCrossSite } from "./same-origin";
import { tokenkeeper } from "./tokenkeeper";

type Handler<P> = (context: { userId: string; params: P; request: Request }) => Promise<unknown>;

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * A route for the signed-in user: 403 for a cross-site request that could change
 * something (the session cookie is Lax, and a form or fetch from any site may carry
 * it), 401 without a session, errors via errorResponse. What the handler returns is
 * sent as JSON, or as is when it is a Response (the proxy).
 */
export function userRoute<P>(handler: Handler<P>) {
  return async (request: Request, context: { params: Promise<P> }): Promise<Response> => {
    try {
      if (!SAFE_METHODS.has(request.method) && isCrossSite(request.headers, tokenkeeper().config.AUTH_URL)) {
        throw new AppError("forbidden", "cross-site requests may not change anything here");
      }
      const session = await auth();
      const userId = session?.user?.id;
      if (!userId) throw unauthorized();
      const result = await handler({ userId, params: await context.params, request });
      return result instanceof Response ? result : Response.json(result);
    } catch (error) {
      return errorResponse(error);
    }
  };
}
