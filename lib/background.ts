import "server-only";
import { after } from "next/server";
import { logger } from "./log";

const log = logger("background");

/**
 * Runs `work` once the current response has gone out (Next's after(), which keeps the
 * function alive for it), or, outside a request (a script, a test), in the
 * background. Never awaited by the caller; a failure is logged as `event`.
 */
export function afterResponse(event: string, work: () => Promise<unknown>): void {
  const task = () =>
    work().then(
      () => undefined,
      (error: unknown) => log.error(event, { error }),
    );
  try {
    after(task);
  } catch {
    void task();
  }
}
