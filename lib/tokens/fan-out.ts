import "server-only";
import { logger } from "../log";

// Starting more sweep runs on the platform: each worker is an invocation of this same
// deployment's worker route, authenticated with CRON_SECRET, that answers 202 at once
// and sweeps after its response (Next's after(), within its own maxDuration). No
// queue service: Vercel's function concurrency is the engine.

const log = logger("fan-out");

export const WORKER_PATH = "/api/cron/refresh-tokens/worker";
const START_TIMEOUT_MS = 5_000;

/** Asks `count` workers at `origin` to sweep; resolves to how many accepted. */
export async function startWorkers(origin: string, cronSecret: string, count: number, query: string): Promise<number> {
  const started = await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      try {
        const response = await fetch(`${origin}${WORKER_PATH}${query}`, {
          headers: { authorization: `Bearer ${cronSecret}` },
          signal: AbortSignal.timeout(START_TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (response.status === 202) return true;
        log.warn("worker.refused", { worker: index + 1, status: response.status });
      } catch (error) {
        log.warn("worker.unreachable", { worker: index + 1, error });
      }
      return false;
    }),
  );
  return started.filter(Boolean).length;
}
