import "server-only";
import type { NextRequest } from "next/server";
import { errorResponse, invalidRequest, notFound } from "./errors";
import { methodNotAllowed } from "./methods";
import { tokenkeeper } from "./tokenkeeper";

type AuthjsHandler = (request: NextRequest) => Promise<Response>;

/** Auth.js's actions that name a provider in the path (@auth/core lib/utils/web.js parseActionAndProviderId). */
const PROVIDER_ACTION = /^\/api\/auth\/(?:signin|callback)\/([^/]+)\/?$/;

/**
 * Auth.js's route handler with its bare error answers made 400 `{error:
 * "invalid_request", message}` like every other route here: an action it does not
 * know is `"Bad request."`; a session POST failing its CSRF check is `null`
 * (@auth/core 0.41 index.js `Auth`; neither carries a header to keep). A POST whose
 * JSON body does not parse is answered here, before Auth.js: it would log the
 * parser's SyntaxError at error (a visitor could fill the error log) and answer the
 * same "Bad request." (@auth/core lib/utils/web.js `getBody`). A provider this app
 * does not have is 404 `not_found` here too: Auth.js throws a plain Error for it
 * (lib/utils/providers.js), logged at error, and redirects to its "Configuration"
 * error page, as if the server were misconfigured. HEAD, which Next hands to GET, is
 * 405: a GET here acts (a callback redeems its code). Every other answer (redirects,
 * pages, the session, the CSRF token) passes unchanged.
 */
export function withErrorAnswers(handler: AuthjsHandler): AuthjsHandler {
  return async (request) => {
    if (request.method === "HEAD") return methodNotAllowed(request, "GET, POST");
    const { pathname } = request.nextUrl;
    const providerId = PROVIDER_ACTION.exec(pathname)?.[1];
    if (providerId !== undefined && !tokenkeeper().config.providers.some((provider) => provider.id === providerId)) {
      return errorResponse(notFound(`no provider ${providerId} here`));
    }
    if (request.method === "POST" && request.body && request.headers.get("content-type")?.includes("application/json")) {
      const parsed = await request
        .clone()
        .json()
        .then(() => true)
        .catch(() => false);
      if (!parsed) return errorResponse(invalidRequest("the request body is not valid JSON"));
    }
    const response = await handler(request);
    if (response.status !== 400 || !response.headers.get("content-type")?.startsWith("application/json")) return response;
    const body: unknown = await response
      .clone()
      .json()
      .catch(() => undefined);
    if (body !== "Bad request." && body !== null) return response;
    return errorResponse(invalidRequest(body === null ? "the CSRF token is missing or does not match" : `Auth.js serves no ${request.method} ${pathname}`));
  };
}
