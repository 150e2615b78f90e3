import { errorResponse, notFound, AppError } from "./errors";

// OPTIONS is Next's own (204 with Allow); HEAD is Next's own where GET is served.
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
type Method = (typeof METHODS)[number];
type MethodHandlers = Record<Method, (request: Request) => Response>;

/**
 * Handlers for every method a route does not serve: 405 `{error, message}` with
 * Allow (Next alone answers an empty 405). Exported beside the route's own handlers.
 */
export function otherMethods(...served: Method[]): MethodHandlers {
  const allow = served.join(", ");
  const refuse = (request: Request) => methodNotAllowed(request, allow);
  const refused = METHODS.filter((method) => !served.includes(method) && !(method === "HEAD" && served.includes("GET")));
  return Object.fromEntries(refused.map((method) => [method, refuse])) as MethodHandlers;
}

/** 405 method_not_allowed `{error, message}` for `request`'s method, with Allow: `allow` ("GET, POST"). */
export function methodNotAllowed(request: Request, allow: string): Response {
  const response = errorResponse(new AppError("method_not_allowed", `${request.method} is not served here; use ${allow}`));
  response.headers.set("allow", allow);
  return response;
}

/**
 * Any method on a path under /api that no route serves: 404 `{error: "not_found",
 * message}` (Next alone answers its HTML 404 page, which an API client cannot read).
 */
export function noSuchRoute(request: Request): Response {
  return errorResponse(notFound(`no route answers ${request.method} ${new URL(request.url).pathname}`));
}
