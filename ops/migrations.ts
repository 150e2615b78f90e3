// Applies prisma/migrations the way `prisma migrate deploy` does, recording each in
// Prisma's own _prisma_migrations table with Prisma's checksum (sha256 of the file)
// and under Prisma's own advisory lock, so either tool accepts a database the other
// migrated and neither runs beside the other. It needs no schema engine: the Prisma
// CLI downloads a native one at run time, which an offline machine cannot, and the
// embedded PGlite has no wire server for the engine's driver adapters.
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { SqlBackend } from "./sql-backend";

export const MIGRATIONS_DIR = join(import.meta.dirname, "..", "prisma", "migrations");

// The key of Prisma's schema engine's migration lock (pg_advisory_lock(72707369)).
const PRISMA_MIGRATION_LOCK = 72707369;

// Prisma's own DDL for its bookkeeping table (schema-engine, postgres flavour).
export const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export type Migration = { name: string; sql: string; checksum: string };

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, "migration.sql")))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

/**
 * Applies the pending migrations; returns the names it applied. Waits for any other
 * migrator. `prepare` runs first under the same lock (db:adopt baselines there).
 */
export function applyMigrations(database: SqlBackend, migrations = readMigrations(), prepare?: (backend: SqlBackend) => Promise<void>): Promise<string[]> {
  return database.exclusive(PRISMA_MIGRATION_LOCK, async (backend) => {
    await prepare?.(backend);
    return applyPending(backend, migrations);
  });
}

async function applyPending(backend: SqlBackend, migrations: Migration[]): Promise<string[]> {
  await backend.exec(CREATE_MIGRATIONS_TABLE);
  const { rows } = await backend.query({
    query: `SELECT migration_name, checksum, finished_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL`,
    params: [],
  });
  const applied = new Map(rows.map(([name, checksum, finishedAt]) => [name, { checksum, finishedAt }]));
  const done: string[] = [];
  for (const migration of migrations) {
    const previous = applied.get(migration.name);
    if (previous?.finishedAt === null) {
      throw new Error(`Migration ${migration.name} failed earlier and was not rolled back: fix the database, then mark it rolled back.`);
    }
    if (previous) {
      if (previous.checksum !== migration.checksum) {
        console.warn(`warning: migration ${migration.name} was modified after it was applied`);
      }
      continue;
    }
    const id = randomUUID();
    await backend.query({
      query: `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())`,
      params: [id, migration.checksum, migration.name],
    });
    // One simple-protocol message: Postgres runs all its statements as one
    // implicit transaction, so a failing migration leaves no half-applied schema.
    await backend.exec(migration.sql).catch(async (error: Error) => {
      await backend.query({ query: `UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, params: [id, error.message] });
      throw new Error(`Migration ${migration.name} failed: ${error.message}`, { cause: error });
    });
    await backend.query({
      query: `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
      params: [id],
    });
    done.push(migration.name);
  }
  return done;
}
