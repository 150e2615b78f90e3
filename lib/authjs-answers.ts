import "server-only";
import type { NextRequest } from "next/server";
import { errorResponse, invalidRequest } from "./errors";

type AuthjsHandler = (request: NextRequest) => Promise<Response>;

/**
 * Auth.js's route handler with its bare error answers made 400 `{error:
 * "invalid_request", message}` like every other route here: an action it does not
 * know, or a request it cannot parse, is `"Bad request."`; a session POST failing
 * its CSRF check is `null` (@auth/core 0.41 index.js `Auth`). Every other answer
 * (redirects, pages, the session, the CSRF token) passes unchanged; Set-Cookie is kept.
 */
export function withErrorAnswers(handler: AuthjsHandler): AuthjsHandler {
  return async (request) => {
    const response = await handler(request);
    if (response.status !== 400 || !response.headers.get("content-type")?.startsWith("application/json")) return response;
    const body: unknown = await response
      .clone()
      .json()
      .catch(() => undefined);
    if (body !== "Bad request." && body !== null) return response;
    const { pathname } = new URL(request.url);
    const answer = errorResponse(invalidRequest(body === null ? "the CSRF token is missing or does not match" : `Auth.js serves no ${request.method} ${pathname}`));
    for (const cookie of response.headers.getSetCookie()) answer.headers.append("set-cookie", cookie);
    return answer;
  };
}
