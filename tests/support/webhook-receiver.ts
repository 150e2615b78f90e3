// A webhook receiver on loopback that verifies every delivery with the
// `standardwebhooks` package itself (not our code), and can be down or hang.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export type Received = { id: string; verified: boolean; body: string; event?: { type: string; timestamp: string; data: Record<string, unknown> } };

export type Receiver = {
  url: string;
  secret: string;
  received: Received[];
  /** ok: 204; down: 503; hang: never answers. */
  mode: "ok" | "down" | "hang";
  close(): Promise<void>;
};

export async function startWebhookReceiver(): Promise<Receiver> {
  const secret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
  const verifier = new Webhook(secret);
  const state = { mode: "ok" as Receiver["mode"] };
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const id = String(req.headers["webhook-id"]);
    let event: Received["event"];
    try {
      event = verifier.verify(body, req.headers as Record<string, string>) as Received["event"];
    } catch {
      event = undefined;
    }
    received.push({ id, verified: event !== undefined, body, event });
    if (state.mode === "hang") return; // never answers
    res.writeHead(state.mode === "ok" ? 204 : 503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    secret,
    received,
    get mode() {
      return state.mode;
    },
    set mode(value) {
      state.mode = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
