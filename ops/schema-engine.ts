// Prisma's own schema engine (the one behind `prisma migrate`), run as WebAssembly
// through a driver adapter: the Prisma CLI would download a native engine at run
// time, which an offline machine cannot. It diffs prisma/migrations against
// schema.prisma on a throwaway shadow database, exactly as `prisma migrate diff`.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { PrismaPg } from "@prisma/adapter-pg";
import { bindMigrationAwareSqlAdapterFactory, type SqlDriverAdapter, type SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import * as bindings from "@prisma/schema-engine-wasm/schema_engine_bg";
import pg from "pg";
import { MIGRATIONS_DIR, readMigrations } from "./migrations";

const ROOT = join(import.meta.dirname, "..");
export const SCHEMA_FILE = join(ROOT, "prisma", "schema.prisma");

// adapter-pg 7.10 has no column type for pg_catalog's "char" (OID 18), which the
// engine's introspection reads: hand those columns over as text (OID 25).
class CharAsTextClient extends pg.Client {
  constructor(config?: pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    const fix = (result: pg.QueryResult | undefined) => {
      for (const field of result?.fields ?? []) if (field.dataTypeID === 18) field.dataTypeID = 25;
      return result;
    };
    // Both of pg's forms: a callback last, or a promise.
    this.query = ((...args: unknown[]) => {
      const callback = args.at(-1);
      if (typeof callback === "function") return query(...args.slice(0, -1), (error: Error, result: pg.QueryResult) => callback(error, fix(result)));
      const pending = query(...args);
      return pending instanceof Promise ? pending.then(fix) : pending;
    }) as pg.Client["query"];
  }
}

let loaded: Promise<void> | undefined;
function loadEngine(): Promise<void> {
  loaded ??= (async () => {
    // Node 20 cannot import .wasm modules: instantiate the package's file by hand.
    const glue = createRequire(import.meta.url).resolve("@prisma/schema-engine-wasm/schema_engine_bg");
    const { instance } = await WebAssembly.instantiate(readFileSync(join(dirname(glue), "schema_engine_bg.wasm")), { "./schema_engine_bg.js": bindings });
    bindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return loaded;
}

/**
 * The adapter factory the engine needs, on the server `url` names. The shadow
 * database gets host, port, user and database as separate fields (a connection
 * string would override the database and make the "shadow" the main one), and its
 * pool is closed before it is dropped.
 */
function adapterFactory(url: string): SqlMigrationAwareDriverAdapterFactory & { disposeAll(): Promise<void> } {
  const parsed = new URL(url);
  const config: pg.PoolConfig = {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: parsed.pathname.slice(1),
    Client: CharAsTextClient,
    max: 2,
  };
  const main = new PrismaPg(config);
  // Freeing the engine does not close what it connected: a connection left open
  // keeps Prisma's migration lock, and the next engine waits 10 s for it.
  const open: SqlDriverAdapter[] = [];
  return {
    provider: "postgres",
    adapterName: main.adapterName,
    async connect() {
      const adapter = await main.connect();
      open.push(adapter);
      return adapter;
    },
    async disposeAll() {
      await Promise.all(open.splice(0).map((adapter) => adapter.dispose().catch(() => {})));
    },
    async connectToShadowDb(): Promise<SqlDriverAdapter> {
      const admin = await main.connect();
      const database = `prisma_shadow_${crypto.randomUUID().replaceAll("-", "")}`;
      await admin.executeScript(`CREATE DATABASE "${database}"`);
      const shadow = await new PrismaPg({ ...config, database }).connect();
      const dispose = shadow.dispose.bind(shadow);
      shadow.dispose = async () => {
        await dispose();
        await admin.executeScript(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
        await admin.dispose();
      };
      return shadow;
    },
  };
}

type Engine = bindings.SchemaEngine;

export function migrationsList(path = MIGRATIONS_DIR) {
  const lockfile = join(path, "migration_lock.toml");
  return {
    baseDir: path,
    lockfile: { path: "migration_lock.toml", content: existsSync(lockfile) ? readFileSync(lockfile, "utf8") : null },
    shadowDbInitScript: "",
    migrationDirectories: readMigrations(path).map(({ name, sql }) => ({ path: name, migrationFile: { path: "migration.sql", content: { tag: "ok" as const, value: sql } } })),
  };
}

/** Runs `work` with the engine connected to the Postgres server `url` names. */
export async function withSchemaEngine<T>(url: string, work: (engine: Engine) => Promise<T>): Promise<T> {
  await loadEngine();
  const schema = readFileSync(SCHEMA_FILE, "utf8");
  const adapters = adapterFactory(url);
  const engine = await bindings.SchemaEngine.new({ datamodels: [[SCHEMA_FILE, schema]] }, () => {}, bindMigrationAwareSqlAdapterFactory(adapters));
  try {
    return await work(engine);
  } finally {
    engine.free();
    await adapters.disposeAll();
  }
}

const NO_FILTERS = { externalTables: [], externalEnums: [] };
const schemaFiles = () => ({ files: [{ path: SCHEMA_FILE, content: readFileSync(SCHEMA_FILE, "utf8") }] });

/** What Prisma prints for a diff with nothing in it. */
export const EMPTY_MIGRATION = "-- This is an empty migration.\n";

/**
 * The SQL that would take a database migrated by `migrationsPath` to what
 * schema.prisma says: EMPTY_MIGRATION when the committed migrations are complete.
 * `url` is a scratch database on the server; the engine adds a shadow database.
 */
export function migrationDrift(url: string, migrationsPath = MIGRATIONS_DIR): Promise<string> {
  return withSchemaEngine(url, async (engine) => {
    // The engine wants its diagnostic pass before it replays migrations on a shadow database.
    const list = migrationsList(migrationsPath);
    await engine.devDiagnostic({ migrationsList: list, filters: NO_FILTERS });
    const result = await engine.diff({ from: { tag: "migrations", ...list }, to: { tag: "schemaDatamodel", ...schemaFiles() }, script: true, exitCode: null, filters: NO_FILTERS });
    return result.stdout ?? "";
  });
}

/** `prisma migrate deploy`: applies what is pending, under Prisma's lock and bookkeeping. */
export function deployMigrations(url: string, migrationsPath = MIGRATIONS_DIR): Promise<string[]> {
  return withSchemaEngine(url, async (engine) => (await engine.applyMigrations({ migrationsList: migrationsList(migrationsPath), filters: NO_FILTERS })).appliedMigrationNames);
}

/** `prisma migrate status`: what the engine makes of the database's migration history. */
export function migrationStatus(url: string, migrationsPath = MIGRATIONS_DIR) {
  return withSchemaEngine(url, (engine) => engine.diagnoseMigrationHistory({ migrationsList: migrationsList(migrationsPath), optInToShadowDatabase: false, filters: NO_FILTERS }));
}
