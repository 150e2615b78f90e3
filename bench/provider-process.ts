// The dev provider in a process of its own, for benchmarks: the sweep's process then
// measures the sweep, not the provider's CPU. The parent sets the token endpoint's
// latency over IPC ({ delayMs, jitter }: each refresh waits delayMs ± jitter·delayMs,
// so timers do not all wake at once) and reads the refresh count back ({ stats }).
import { startDevOidc } from "../dev/oidc-server";

const oidc = await startDevOidc({
  clients: [{ clientId: process.env.BENCH_CLIENT_ID!, clientSecret: process.env.BENCH_CLIENT_SECRET!, redirectUris: ["http://localhost:3999/api/auth/callback/oidc"] }],
  accessTokenTtlSeconds: 3600,
});
let latency = { delayMs: 0, jitter: 0 };
oidc.faults.token = ({ grantType }) => (grantType === "refresh_token" && latency.delayMs > 0 ? { delayMs: latency.delayMs * (1 + latency.jitter * (2 * Math.random() - 1)) } : undefined);
process.on("message", (message: { delayMs?: number; jitter?: number; stats?: boolean }) => {
  if (message.stats) return process.send!({ stats: oidc.stats });
  latency = { delayMs: message.delayMs ?? 0, jitter: message.jitter ?? 0 };
  process.send!({ latency });
});
process.on("disconnect", () => void oidc.close().then(() => process.exit(0)));
process.send!({ issuer: oidc.issuer });
