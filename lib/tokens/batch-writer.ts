import "server-only";
import { writeTokens } from "../db/refresh";
import type { Db } from "../db/client";
import type { Outbox } from "../db/outbox";
import type { TokenWriter } from "./engine";

/**
 * A TokenWriter that groups writes into one UPDATE of up to `maxBatch` rows, so a
 * sweep pays about one round trip per group, not per account. Group commit, no
 * timer: a write goes out at the next turn of the event loop when no statement is
 * in flight; otherwise it waits for that statement and goes with everything that
 * arrived meanwhile (a full batch goes at once). Refreshes that complete spread out
 * over time (a provider answering in 50-150 ms) still share statements: issue #23
 * measured ~1.4 rows per statement when only same-turn writes were grouped.
 * Each caller still waits until its own row is stored before going on, and a row
 * that cannot be written fails only its own caller.
 */
export function batchingWriter(
  db: Db,
  { outbox = null, onEvents = () => {}, maxBatch = 50 }: { outbox?: Outbox; onEvents?: () => void; maxBatch?: number } = {},
): TokenWriter & { statements: () => number } {
  type Pending = { write: Parameters<TokenWriter>[0]; resolve: (version: number | undefined) => void; reject: (error: unknown) => void };
  const queue: Pending[] = [];
  let scheduled = false;
  let inFlight = 0;
  let statements = 0;

  const flush = async () => {
    const items = queue.splice(0, maxBatch);
    if (items.length === 0) return;
    inFlight += 1;
    try {
      await store(items);
    } finally {
      inFlight -= 1;
      // What arrived while this statement ran goes next, together.
      if (queue.length > 0 && inFlight === 0) void flush();
    }
  };

  const store = async (items: Pending[]) => {
    statements += 1;
    try {
      const { versions, events } = await writeTokens(
        db,
        items.map((item) => item.write),
        outbox,
      );
      if (events > 0) onEvents();
      for (const item of items) item.resolve(versions.get(item.write.id));
    } catch (error) {
      if (items.length === 1) return items[0]!.reject(error);
      // One bad row fails the whole statement: write each alone, so it fails only itself.
      await Promise.all(
        items.map(async (item) => {
          statements += 1;
          try {
            const { versions, events } = await writeTokens(db, [item.write], outbox);
            if (events > 0) onEvents();
            item.resolve(versions.get(item.write.id));
          } catch (itemError) {
            item.reject(itemError);
          }
        }),
      );
    }
  };

  const writer = (write: Parameters<TokenWriter>[0]) =>
    new Promise<number | undefined>((resolve, reject) => {
      queue.push({ write, resolve, reject });
      if (queue.length >= maxBatch) void flush();
      else if (!scheduled && inFlight === 0) {
        scheduled = true;
        setImmediate(() => {
          scheduled = false;
          // Else the statement in flight takes this write along when it settles.
          if (inFlight === 0) void flush();
        });
      }
    });
  return Object.assign(writer, { statements: () => statements });
}
