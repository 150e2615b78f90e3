// A workerd entry around a Next.js middleware: the request becomes a NextRequest,
// the middleware's answer goes back as is (x-middleware-next marks "pass").
import "./env-shim";
import { NextRequest } from "next/server";
// @ts-expect-error resolved by the esbuild alias in testkit/edge-bundle.ts
import { middleware } from "middleware-under-test";

export default {
  async fetch(request: Request): Promise<Response> {
    const response: Response = await middleware(new NextRequest(request), { waitUntil() {} });
    return response ?? new Response(null, { headers: { "x-middleware-next": "1" } });
  },
};
