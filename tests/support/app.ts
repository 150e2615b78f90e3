// The app's Auth.js route handlers, called in-process: the real callback path
// (adapter, linkAccount, events) without a Next.js server. Requests to any other
// host (the dev provider) go out over HTTP.
import { NextRequest } from "next/server";
import type { Agent, Fetcher } from "../../testkit/browserless";

export const APP_URL = "http://localhost:3999";

export async function appFetcher(): Promise<Fetcher> {
  const { handlers } = await import("@/auth");
  return async (url, init) => {
    if (!url.startsWith(APP_URL)) return fetch(url, init);
    const request = new NextRequest(url, init as ConstructorParameters<typeof NextRequest>[1]);
    if (!request.nextUrl.pathname.startsWith("/api/auth/")) throw new Error(`only Auth.js routes run in-process, not ${request.nextUrl.pathname}`);
    return (init?.method ?? "GET").toUpperCase() === "POST" ? handlers.POST(request) : handlers.GET(request);
  };
}

/** Signs out through Auth.js (POST /api/auth/signout with the CSRF token). */
export async function signOutThroughApp(agent: Agent): Promise<Response> {
  const { csrfToken } = (await (await agent.request(`${APP_URL}/api/auth/csrf`)).json()) as { csrfToken: string };
  return agent.request(`${APP_URL}/api/auth/signout`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrfToken, callbackUrl: APP_URL }).toString(),
  });
}
