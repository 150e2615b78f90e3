import "server-only";
import { auth } from "@/auth";
import { errorResponse, TokenError } from "./errors";

type Handler<P> = (context: { userId: string; params: P }) => Promise<unknown>;

/** A JSON route for the signed-in user: 401 without a session, errors via errorResponse. */
export function userRoute<P>(handler: Handler<P>) {
  return async (_request: Request, context: { params: Promise<P> }): Promise<Response> => {
    try {
      const session = await auth();
      const userId = session?.user?.id;
      if (!userId) throw new TokenError("unauthorized", "Sign in first.");
      return Response.json(await handler({ userId, params: await context.params }));
    } catch (error) {
      return errorResponse(error);
    }
  };
}
