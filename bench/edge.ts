// The edge gate in workerd: the lean check (middleware.ts) next to Auth.js's own
// NextAuth(authConfig).auth wrapper, on the same valid session cookie. Rounds
// alternate between the two so warm-up and machine noise hit both alike.
import type { Miniflare } from "miniflare";
import { encode } from "next-auth/jwt";
import { bundleMiddleware, type EdgeBundle, startWorker } from "../testkit/edge-bundle";
import { median, ms, table, timed } from "./stats";

const SECRET = "bench-secret-0123456789abcdefghij";
const VARIANTS = {
  "lean (middleware.ts)": new URL("../middleware.ts", import.meta.url).pathname,
  "NextAuth(authConfig).auth": new URL("../testkit/edge-entries/authjs-middleware.ts", import.meta.url).pathname,
};
const ROUNDS = 6;

type Worker = { name: string; bundle: EdgeBundle; mf: Miniflare; latencies: number[]; rates: number[] };

export async function benchEdge() {
  const cookie = `authjs.session-token=${await encode({ token: { sub: "u1" }, secret: SECRET, salt: "authjs.session-token" })}`;
  const workers: Worker[] = [];
  for (const [name, file] of Object.entries(VARIANTS)) {
    const bundle = await bundleMiddleware(file, { AUTH_SECRET: SECRET });
    workers.push({ name, bundle, mf: startWorker(bundle.code), latencies: [], rates: [] });
  }
  const call = async (worker: Worker) => {
    const response = await worker.mf.dispatchFetch("http://localhost:3000/dashboard", { headers: { cookie, "x-forwarded-proto": "http" }, redirect: "manual" });
    if (response.headers.get("x-middleware-next") !== "1") throw new Error(`${worker.name} did not pass a valid session`);
    await response.arrayBuffer();
  };
  for (const worker of workers) for (let i = 0; i < 200; i++) await call(worker); // warm
  for (let round = 0; round < ROUNDS; round++) {
    for (const worker of workers) {
      for (let i = 0; i < 100; i++) worker.latencies.push((await timed(() => call(worker)))[1]);
      const total = 400;
      let next = 0;
      const [, wall] = await timed(() =>
        Promise.all(
          Array.from({ length: 16 }, async () => {
            while (next++ < total) await call(worker);
          }),
        ),
      );
      worker.rates.push(total / (wall / 1000));
    }
  }
  for (const worker of workers) await worker.mf.dispose();
  console.log(`\n## Edge middleware in workerd (miniflare, valid session, ${ROUNDS} alternating rounds; latency includes miniflare's loopback dispatch)\n`);
  table(
    ["variant", "requests/s, median of rounds (16 in flight)", "median latency", "gzip (esbuild)", "raw"],
    workers.map((w) => [w.name, median(w.rates).toFixed(0), ms(median(w.latencies)), `${(w.bundle.gzipBytes / 1024).toFixed(1)} KB`, `${(w.bundle.bytes / 1024).toFixed(0)} KB`]),
  );
}
