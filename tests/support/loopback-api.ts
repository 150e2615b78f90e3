// A small provider API on loopback for the proxy tests: it checks each bearer at the
// dev provider's userinfo endpoint (as a resource server would), records every
// request it sees, and gives scripted answers on request (401, 429, 503, an HTML page…).
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export type SeenRequest = { method: string; path: string; headers: Record<string, string | string[] | undefined>; body: string };

export type ScriptedAnswer = { status: number; retryAfter?: string; headers?: Record<string, string>; body?: string };

export type LoopbackApi = {
  base: string;
  seen: SeenRequest[];
  /** The answers to give before the normal one, per path: e.g. [{ status: 429, retryAfter: "1" }]; headers and body replace the JSON error. */
  script: Map<string, ScriptedAnswer[]>;
  close(): Promise<void>;
};

export async function startLoopbackApi(issuer: string): Promise<LoopbackApi> {
  const seen: SeenRequest[] = [];
  const script = new Map<string, ScriptedAnswer[]>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const path = req.url ?? "";
    seen.push({ method: req.method ?? "", path, headers: req.headers, body });
    const scripted = script.get(path.split("?")[0]!)?.shift();
    if (scripted) {
      res.writeHead(scripted.status, { ...(scripted.headers ?? { "content-type": "application/json" }), ...(scripted.retryAfter ? { "retry-after": scripted.retryAfter } : {}) });
      return res.end(scripted.body ?? JSON.stringify({ error: `scripted ${scripted.status}` }));
    }
    const me = await fetch(`${issuer}/me`, { headers: { authorization: req.headers.authorization ?? "" } });
    if (me.status !== 200) {
      res.writeHead(401, { "content-type": "application/json", "www-authenticate": 'Bearer error="invalid_token"' });
      return res.end(JSON.stringify({ error: "invalid_token" }));
    }
    const user = (await me.json()) as { sub: string };
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "set-cookie": "api-session=must-not-pass; Path=/", "x-api": "loopback", "cache-control": "public, max-age=3600" });
    res.end(JSON.stringify({ sub: user.sub, method: req.method, path, body }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    seen,
    script,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
