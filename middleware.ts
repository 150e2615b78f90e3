import { NextResponse, type NextRequest } from "next/server";
import { errorResponse, unauthorized } from "./lib/errors";
import { gate } from "./lib/gate";
import { hasSession, sessionSecrets } from "./lib/session-check";

// Edge runtime: checks the Auth.js JWT session cookie only. No database, no token
// keys, no Node APIs (the edge suite runs this file in workerd to prove it).
export async function middleware(request: NextRequest): Promise<Response> {
  const decision = gate(request.nextUrl, await hasSession(request, sessionSecrets(process.env)));
  if (decision.kind === "unauthorized") return errorResponse(unauthorized());
  if (decision.kind === "signin") {
    const url = new URL("/signin", request.nextUrl);
    url.searchParams.set("callbackUrl", decision.callbackUrl);
    return NextResponse.redirect(url);
  }
  return NextResponse.next();
}

export const config = {
  // Never for Auth.js itself, the cron route or static assets.
  matcher: ["/dashboard/:path*", "/api/accounts/:path*"],
};
