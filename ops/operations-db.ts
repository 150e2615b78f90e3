import { createDb, type Db } from "../lib/db/client";
import type { OperationsConfig } from "../lib/env";
import { openDatabase } from "./database";
import { applyMigrations } from "./migrations";
import { startNeonEndpoint } from "./neon-endpoint";

/**
 * The app's own Prisma client (Neon's HTTP driver) for an operations command, on
 * any database the README documents: the database is opened over TCP or embedded
 * (then migrated), and a Neon endpoint on loopback, inside this process, sits in front of it. So a
 * command runs exactly the app's statements, with no `npm start` running.
 */
export async function openOperationsDb(config: OperationsConfig): Promise<{ db: Db; close(): Promise<void> }> {
  const { backend, url, embedded } = await openDatabase(config);
  // The embedded database is the dev stack's own, which npm start migrates on every start:
  // a fresh clone's first command (keys:create before any npm start) finds it migrated too.
  // A server DATABASE_URL names is migrated only by db:migrate, as deployed.
  if (embedded) await applyMigrations(backend);
  const endpoint = await startNeonEndpoint(backend, { connectionString: url });
  const db = createDb(url, endpoint.url);
  return {
    db,
    async close() {
      await db.$disconnect();
      await endpoint.close();
      await backend.close();
    },
  };
}
