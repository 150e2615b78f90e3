// A workerd entry that runs the middleware `x-checks` times inside one request, so
// the session check's CPU dominates the measure, not miniflare's dispatch. A POST
// body of cookie headers (a JSON array) gives each check its own cookie instead.
import "./env-shim";
import { NextRequest } from "next/server";
// @ts-expect-error resolved by the esbuild alias in testkit/edge-bundle.ts
import { middleware } from "middleware-under-test";

export default {
  async fetch(request: Request): Promise<Response> {
    const checks = Number(request.headers.get("x-checks") ?? 1);
    // Built before the checks: a call of 1 check and one of many build the same, so their difference is the checks'.
    const cookies = request.method === "POST" ? ((await request.json()) as string[]) : [];
    const each = cookies.map((cookie) => {
      const headers = new Headers(request.headers);
      headers.set("cookie", cookie);
      return new NextRequest(request.url, { headers });
    });
    let passed = 0;
    for (let i = 0; i < checks; i++) {
      const response: Response | undefined = await middleware(each[i % each.length] ?? new NextRequest(request), { waitUntil() {} });
      if (!response || response.headers.get("x-middleware-next") === "1") passed += 1;
    }
    return new Response(String(passed));
  },
};
