// The app's Auth.js routes, /api/v1 and the consent-link pages served over real HTTP
// on loopback, in this process (no `next build`): what a service, a Python script or
// the browserless agent reaches by URL. Listening before the stack starts, so the
// dev provider's redirect URIs can name its port.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { NextRequest } from "next/server";

export type AppServer = { origin: string; port: number; close(): Promise<void> };

export async function serveApp(): Promise<AppServer> {
  const server = createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      const request = new NextRequest(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body });
      const response = await dispatch(request);
      const out: Record<string, string | string[]> = {};
      response.headers.forEach((value, name) => {
        if (name !== "set-cookie") out[name] = value;
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length > 0) out["set-cookie"] = cookies;
      res.writeHead(response.status, out);
      res.end(Buffer.from(await response.arrayBuffer()));
    } catch (error) {
      res.writeHead(500, { "content-type": "text/plain" }).end(String((error as Error).stack));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://localhost:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function dispatch(request: NextRequest): Promise<Response> {
  const path = request.nextUrl.pathname;
  if (path.startsWith("/api/auth/")) {
    const { handlers } = await import("@/auth");
    return request.method === "POST" ? handlers.POST(request) : handlers.GET(request);
  }
  if (path === "/api/v1/consent") return (await import("@/lib/consent-flow")).openConsentLink(request);
  if (path === "/api/v1/consent/refused") return (await import("@/lib/consent-flow")).consentRefusedPage(request);
  if (path === "/api/v1/openapi.json") return (await import("@/app/api/v1/openapi.json/route")).GET(request);
  if (path.startsWith("/api/v1/")) return (await import("@/lib/api-v1/routes")).serveV1(request);
  return new Response("not served in tests", { status: 404 });
}
