import "server-only";
import { writeTokens } from "../db/refresh";
import type { Db } from "../db/client";
import type { Outbox } from "../db/outbox";
import type { TokenWriter } from "./engine";

/**
 * A TokenWriter that groups the writes arriving in the same turn of the event loop
 * (refreshes that completed together) into one UPDATE, up to `maxBatch`, so a sweep
 * pays about one round trip per group, not per account, and no refresh waits on a
 * timer for company that may not come.
 * Each caller still waits until its own row is stored before going on, and a row
 * that cannot be written fails only its own caller.
 */
export function batchingWriter(db: Db, { outbox = null, onEvents = () => {}, maxBatch = 50 }: { outbox?: Outbox; onEvents?: () => void; maxBatch?: number } = {}): TokenWriter & { statements: () => number } {
  type Pending = { write: Parameters<TokenWriter>[0]; resolve: (version: number | undefined) => void; reject: (error: unknown) => void };
  let queue: Pending[] = [];
  let scheduled = false;
  let statements = 0;

  const flush = async () => {
    scheduled = false;
    const items = queue;
    queue = [];
    if (items.length === 0) return;
    statements += 1;
    try {
      const { versions, events } = await writeTokens(db, items.map((item) => item.write), outbox);
      if (events > 0) onEvents();
      for (const item of items) item.resolve(versions.get(item.write.id));
    } catch (error) {
      if (items.length === 1) return items[0]!.reject(error);
      // One bad row fails the whole statement: write each alone, so it fails only itself.
      await Promise.all(items.map(async (item) => {
        statements += 1;
        try {
          const { versions, events } = await writeTokens(db, [item.write], outbox);
          if (events > 0) onEvents();
          item.resolve(versions.get(item.write.id));
        } catch (itemError) {
          item.reject(itemError);
        }
      }));
    }
  };

  const writer = (write: Parameters<TokenWriter>[0]) =>
    new Promise<number | undefined>((resolve, reject) => {
      queue.push({ write, resolve, reject });
      if (queue.length >= maxBatch) void flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(() => void flush());
      }
    });
  return Object.assign(writer, { statements: () => statements });
}
