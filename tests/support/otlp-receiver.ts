// An OpenTelemetry collector's OTLP/HTTP JSON trace endpoint on loopback, keeping what
// it receives: the app exports to it through @vercel/otel's own exporter, so a test
// reads back exactly what a real collector would store.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export type OtlpSpan = { name: string; attributes: { key: string; value: Record<string, unknown> }[] };

export type OtlpReceiver = { endpoint: string; bodies: string[]; spans(): OtlpSpan[]; close(): Promise<void> };

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const bodies: string[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.url === "/v1/traces") bodies.push(Buffer.concat(chunks).toString("utf8"));
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    spans: () =>
      bodies.flatMap((body) => {
        const request = JSON.parse(body) as { resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[] };
        return (request.resourceSpans ?? []).flatMap((resource) => (resource.scopeSpans ?? []).flatMap((scope) => scope.spans ?? []));
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
