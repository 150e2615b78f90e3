// `npm run db:new-migration -- <name>`: writes prisma/migrations/<timestamp>_<name>/
// migration.sql for what schema.prisma changed, with Prisma's own schema engine: what
// `prisma migrate dev --create-only` writes, without its download. It needs a Postgres
// server to replay the migrations on (DATABASE_URL, or TEST_POSTGRES_URL), and uses a
// scratch database there, dropped afterwards.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { loadOperationsConfig } from "../lib/env";
import { MIGRATIONS_DIR } from "./migrations";
import { EMPTY_MIGRATION, migrationDrift } from "./schema-engine";

const name = process.argv[2];
const config = loadOperationsConfig();
const server = config.DATABASE_URL ?? config.TEST_POSTGRES_URL;
if (!name || !/^[a-z0-9_]+$/.test(name) || !server) {
  console.error("usage: DATABASE_URL=postgresql://… npm run db:new-migration -- <snake_case_name>");
  process.exit(2);
}
const scratch = `tk_migration_${Date.now().toString(36)}`;
const admin = new pg.Client({ connectionString: server });
await admin.connect();
await admin.query(`CREATE DATABASE ${scratch}`);
try {
  const url = new URL(server);
  url.pathname = `/${scratch}`;
  // The diff from the replayed migrations to schema.prisma: the engine's createMigration
  // wants a shadow database of its own making for a non-empty history, which a driver
  // adapter cannot give it; the diff renders the same statements.
  const script = await migrationDrift(url.href);
  if (script === EMPTY_MIGRATION) {
    console.log("schema.prisma matches the migrations: nothing to write");
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
    const dir = join(MIGRATIONS_DIR, `${stamp}_${name}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "migration.sql"), script);
    console.log(`wrote ${join("prisma/migrations", `${stamp}_${name}`, "migration.sql")}`);
  }
} finally {
  await admin.query(`DROP DATABASE ${scratch} WITH (FORCE)`);
  await admin.end();
}
