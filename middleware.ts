import { NextResponse, type NextRequest } from "next/server";
import { errorResponse, unauthorized } from "./lib/errors";
import { gate } from "./lib/gate";
import { checkSession, sessionSecrets } from "./lib/session-check";

// Edge runtime: checks the Auth.js JWT session cookie only, and rolls it as Auth.js
// does. No database, no token keys, no Node APIs (the edge suite runs this file in
// workerd to prove it).
export async function middleware(request: NextRequest): Promise<Response> {
  const session = await checkSession(request, sessionSecrets(process.env));
  const decision = gate(request.nextUrl, session.signedIn);
  if (decision.kind === "unauthorized") return errorResponse(unauthorized());
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
  // Never for Auth.js itself, the cron route or static assets.
  matcher: ["/dashboard/:path*", "/api/accounts/:path*"],
};
