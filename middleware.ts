import { NextResponse, type NextRequest } from "next/server";
import { invalidRequest, errorResponse, unauthorized } from "./lib/errors";
import { gate, needsSession } from "./lib/gate";
import { checkSession, sessionSecrets } from "./lib/session-check";

// The edge gate, on the edge runtime ON PURPOSE. Next 16 deprecates the name
// `middleware.ts` for `proxy.ts`, but its proxy.ts runs on the Node.js runtime only;
// this check needs no Node: it reads the session cookie and decides (lib/gate.ts)
// before a page or an account route starts, in the region nearest the user. Keep the
// name until Next's proxy.ts can run on the edge.
// It checks the Auth.js JWT session cookie only (lib/session-check.ts, which owns
// Auth.js's cookie format), and rolls it as Auth.js does. No database, no token keys,
// no Node APIs: tests/edge runs this file in workerd to prove it, and proves each
// decision equal to NextAuth(authConfig).auth's under the pinned next-auth.
// Every other /api path (Auth.js, /api/v1, the crons) comes here only so that a path
// Next cannot decode is a 400 {error, message}, not its bare 500: no cookie is read.
export async function middleware(request: NextRequest): Promise<Response> {
  // Read here, not through lib/env.ts (Node-only: zod and every provider would enter the
  // edge bundle); sessionSecrets is the same parsing the app's Config takes its list from.
  const session = needsSession(request.nextUrl.pathname) ? await checkSession(request, sessionSecrets(process.env)) : { signedIn: false };
  const decision = gate(request.nextUrl, session.signedIn);
  if (decision.kind === "unauthorized") return errorResponse(unauthorized());
  if (decision.kind === "invalid_request") return errorResponse(invalidRequest("the URL's path is not valid percent-encoding"));
  if (decision.kind === "signin") {
    const url = new URL("/signin", request.nextUrl);
    url.searchParams.set("callbackUrl", decision.callbackUrl);
    return NextResponse.redirect(url);
  }
  const response = NextResponse.next();
  if (session.renewal) response.headers.append("set-cookie", session.renewal);
  return response;
}

export const config = {
  // The protected prefixes (lib/gate.ts), and all of /api for the encoding check alone.
  matcher: ["/dashboard/:path*", "/api/:path*"],
};
