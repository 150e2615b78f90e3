import { spawnSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { describe, expect, it, onTestFinished } from "vitest";
import { applyMigrations, MIGRATIONS_DIR } from "@/ops/migrations";
import { deployMigrations, EMPTY_MIGRATION, migrationDrift, migrationStatus } from "@/ops/schema-engine";
import { openPostgres } from "@/ops/sql-backend";
import { scratchDir } from "../../testkit/scratch";
import { dropPostgresDatabase, freshPostgresDatabase } from "../../testkit/stack";

// Prisma's own schema engine (WebAssembly, through a driver adapter) holds the
// committed migrations to schema.prisma, and holds our runner (ops/migrations.ts,
// which db:migrate and the dev stack use) to what `prisma migrate deploy` does.

const INIT = "20261126000000_init";
const ALL = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

/** A fresh database of the test server, dropped when the test ends. */
async function scratchDatabase(): Promise<string> {
  const url = await freshPostgresDatabase();
  onTestFinished(() => dropPostgresDatabase(url));
  return url;
}

/** A copy of prisma/migrations with `edit` applied to the init migration, removed when the test ends. */
function editedMigrations(edit: (sql: string) => string): string {
  const dir = scratchDir("tokenkeeper-migrations-");
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const file = join(dir, INIT, "migration.sql");
  writeFileSync(file, edit(readFileSync(file, "utf8")));
  return dir;
}

async function rows(url: string, sql: string): Promise<unknown[][]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query({ text: sql, rowMode: "array" })).rows;
  } finally {
    await client.end();
  }
}

describe("prisma/migrations against schema.prisma, by Prisma's schema engine", () => {
  it("leaves nothing to migrate", async () => {
    expect(await migrationDrift(await scratchDatabase())).toBe(EMPTY_MIGRATION);
  });

  it("ends with the migration Prisma's engine writes for the newest change, byte for byte", async () => {
    const newest = ALL.at(-1)!;
    const before = scratchDir("tokenkeeper-migrations-before-");
    cpSync(MIGRATIONS_DIR, before, { recursive: true });
    rmSync(join(before, newest), { recursive: true });
    expect(await migrationDrift(await scratchDatabase(), before)).toBe(readFileSync(join(MIGRATIONS_DIR, newest, "migration.sql"), "utf8"));
  });

  it("names exactly what a broken copy lacks: a dropped index, a changed type, a removed default", async () => {
    const broken = editedMigrations((sql) =>
      sql
        .replace(/-- CreateIndex\nCREATE INDEX "Account_status_expires_at_idx"[^\n]*\n\n/, "")
        .replace('"failureCount" INTEGER NOT NULL DEFAULT 0', '"failureCount" INTEGER NOT NULL')
        .replace('"lastError" TEXT', '"lastError" VARCHAR(20)'),
    );
    const drift = await migrationDrift(await scratchDatabase(), broken);
    expect(drift).toContain(`ALTER COLUMN "failureCount" SET DEFAULT 0`);
    expect(drift).toContain(`ALTER COLUMN "lastError" SET DATA TYPE TEXT`);
    expect(drift).toContain(`CREATE INDEX "Account_status_expires_at_idx" ON "Account"("status", "expires_at");`);
    expect(drift.match(/;$/gm)).toHaveLength(2); // those two statements and nothing else
  });
});

describe("npm run db:new-migration", () => {
  it("says there is nothing to write while schema.prisma and the migrations agree", () => {
    const before = readdirSync(MIGRATIONS_DIR).sort();
    const result = spawnSync("npm", ["run", "--silent", "db:new-migration", "--", "nothing_changed"], {
      cwd: join(import.meta.dirname, "..", ".."),
      env: { ...process.env, DATABASE_URL: process.env.TEST_POSTGRES_URL },
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("schema.prisma matches the migrations: nothing to write");
    expect(readdirSync(MIGRATIONS_DIR).sort()).toStrictEqual(before);
  });
});

describe("our migration runner next to `prisma migrate deploy`", () => {
  it("leaves a database Prisma's engine finds up to date, with the same bookkeeping", async () => {
    const ours = await scratchDatabase();
    const theirs = await scratchDatabase();
    const backend = openPostgres(ours, 2);
    const started = performance.now();
    expect(await applyMigrations(backend)).toStrictEqual(ALL);
    const oursMs = performance.now() - started;
    await backend.close();
    const engineStarted = performance.now();
    expect(await deployMigrations(theirs)).toStrictEqual(ALL);
    const engineMs = performance.now() - engineStarted;
    console.log(`migrating a fresh database: runner ${oursMs.toFixed(0)} ms, Prisma's wasm engine ${engineMs.toFixed(0)} ms`);

    const bookkeeping = `SELECT migration_name, checksum, applied_steps_count, finished_at IS NOT NULL, rolled_back_at FROM "_prisma_migrations"`;
    expect(await rows(ours, bookkeeping)).toStrictEqual(await rows(theirs, bookkeeping));
    // `prisma migrate deploy` on our database: nothing to apply, nothing edited or failed.
    expect(await deployMigrations(ours)).toStrictEqual([]);
    expect(await migrationStatus(ours)).toMatchObject({ history: null, failedMigrationNames: [], editedMigrationNames: [], hasMigrationsTable: true });
    // And the reverse: our runner on the engine's database has nothing to do.
    const again = openPostgres(theirs, 2);
    expect(await applyMigrations(again)).toStrictEqual([]);
    await again.close();
  });

  it("lets two migrators start at once on a fresh database: one migrates, the other waits and finds nothing to do (#11)", async () => {
    const url = await scratchDatabase();
    const [a, b] = [openPostgres(url, 2), openPostgres(url, 2)];
    const results = await Promise.all([applyMigrations(a), applyMigrations(b)]);
    await Promise.all([a.close(), b.close()]);
    expect(results.flat()).toStrictEqual(ALL);
    expect(await rows(url, `SELECT count(*)::int FROM "_prisma_migrations"`)).toStrictEqual([[ALL.length]]);
  });
});
