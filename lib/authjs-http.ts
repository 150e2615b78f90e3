import "server-only";
import { NextRequest } from "next/server";

// Auth.js's own HTTP routes, called in-process with the browser's cookies: the
// session of a request, and the start of a provider sign-in (state, PKCE and
// callback-URL cookies, as a sign-in button's POST makes them). Through the routes,
// not next-auth's server actions, so it works in any request handler and needs no
// Next.js request scope (next/headers).

const authjs = async () => (await import("@/auth")).handlers;

const cookiePairs = (setCookies: string[]) => setCookies.map((line) => line.split(";")[0]!).join("; ");

/** The signed-in user's id for this request's cookies, or null (Auth.js's GET /api/auth/session). */
export async function sessionUserId(request: Request): Promise<string | null> {
  const { GET } = await authjs();
  const response = await GET(new NextRequest(new URL("/api/auth/session", request.url), { headers: { cookie: request.headers.get("cookie") ?? "" } }));
  if (!response.ok) return null;
  const session = (await response.json()) as { user?: { id?: unknown } } | null;
  return typeof session?.user?.id === "string" ? session.user.id : null;
}

/**
 * Starts Auth.js's sign-in with `provider` (POST /api/auth/signin/{provider} with its
 * CSRF token): the provider's authorization URL with `params`, and the cookies the
 * browser must carry to the callback (Set-Cookie values). After the callback Auth.js
 * sends the user to `callbackPath`.
 */
export async function startProviderSignIn(origin: string, provider: string, params: Record<string, string>, callbackPath: string): Promise<{ location: string; setCookies: string[] }> {
  const { GET, POST } = await authjs();
  const csrf = await GET(new NextRequest(new URL("/api/auth/csrf", origin)));
  const csrfCookies = csrf.headers.getSetCookie();
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const url = new URL(`/api/auth/signin/${encodeURIComponent(provider)}`, origin);
  url.search = new URLSearchParams(params).toString();
  const start = await POST(
    new NextRequest(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookiePairs(csrfCookies) },
      body: new URLSearchParams({ csrfToken, callbackUrl: new URL(callbackPath, origin).href }).toString(),
    }),
  );
  const location = start.headers.get("location");
  if (!location || location.startsWith(origin)) throw new Error(`Auth.js did not start the ${provider} sign-in (${start.status} to ${location ?? "nowhere"})`);
  return { location, setCookies: start.headers.getSetCookie() };
}
