import "server-only";
import { auth } from "@/auth";
import { errorResponse, unauthorized } from "./errors";

type Handler<P> = (context: { userId: string; params: P; request: Request }) => Promise<unknown>;

/**
 * A route for the signed-in user: 401 without a session, errors via errorResponse.
 * What the handler returns is sent as JSON, or as is when it is a Response (the proxy).
 */
export function userRoute<P>(handler: Handler<P>) {
  return async (request: Request, context: { params: Promise<P> }): Promise<Response> => {
    try {
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
