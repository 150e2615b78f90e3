// Test wiring: a real database behind the local Neon endpoint (PGlite, or a fresh
// database on the Postgres server named by TEST_POSTGRES_URL), the dev OpenID
// Connect provider, and a token engine built on them.
import { rmSync } from "node:fs";
import pg from "pg";
import { startStack, type Stack } from "@/dev/stack";
import { createDb, type Db } from "@/lib/db/client";
import { loadConfig } from "@/lib/env";
import { createTokenkeeper, type Tokenkeeper } from "@/lib/tokenkeeper";
import type { EngineOptions, TokenEngine } from "@/lib/tokens/engine";
import { sweepExpiringTokens } from "@/lib/tokens/sweep";
import type { SweepPolicy } from "@/lib/tokens/sweep-policy";
import { tempDir } from "./left-behind";

export type Backend = "pglite" | "postgres";

/** Runs one statement as the test server's admin (TEST_POSTGRES_URL), on a connection of its own. */
async function onTestServer(sql: string): Promise<void> {
  const admin = process.env.TEST_POSTGRES_URL;
  if (!admin) throw new Error("TEST_POSTGRES_URL is not set: the postgres suite needs a server (see .ci/run)");
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new empty database on the test server, so suites never see each other's rows. */
export async function freshPostgresDatabase(): Promise<string> {
  const name = `tk_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await onTestServer(`CREATE DATABASE ${name}`);
  const url = new URL(process.env.TEST_POSTGRES_URL!);
  url.pathname = `/${name}`;
  return url.href;
}

/** Drops a database freshPostgresDatabase made, and any connection left open to it: each is ~8 MB on the server's disk. */
export async function dropPostgresDatabase(url: string): Promise<void> {
  await onTestServer(`DROP DATABASE IF EXISTS ${new URL(url).pathname.slice(1)} WITH (FORCE)`);
}

export type TestStack = Stack & { home: string; db: Db };

/**
 * The dev stack in a new temp home (its embedded database, ~40 MB, and the dev
 * provider's grants), on PGlite or a fresh database of the Postgres server.
 * `stop()` stops it and removes that home (and that database).
 */
export async function startTestStack(backend: Backend, env: Record<string, string> = {}, appPort = 3999): Promise<TestStack> {
  // The database first: a server that refuses leaves no empty home behind.
  const databaseUrl = backend === "postgres" ? await freshPostgresDatabase() : undefined;
  const home = tempDir("tokenkeeper-test-");
  const remove = async () => {
    rmSync(home, { recursive: true, force: true });
    if (databaseUrl) await dropPostgresDatabase(databaseUrl);
  };
  const stack = await startStack({ home, env: { ...env, DATABASE_URL: databaseUrl }, appPort, oidcPort: 0 }).catch(async (error) => {
    await remove();
    throw error;
  });
  // What the app's own modules read (lib/env.ts) in this test process.
  Object.assign(process.env, stack.env, { TOKENKEEPER_LOG_LEVEL: "warn" });
  const stop = async () => {
    await stack.stop();
    await remove();
  };
  return { ...stack, stop, home, db: createDb(stack.env.DATABASE_URL!, stack.env.NEON_LOCAL_ENDPOINT) };
}

/** The app as this test process configures it (process.env, stack.env on top), over the stack's database. */
export function tokenkeeperFor(stack: TestStack, engine: Partial<EngineOptions> = {}): Tokenkeeper {
  return createTokenkeeper(loadConfig({ ...process.env, ...stack.env }), { db: stack.db, engine });
}

/**
 * What a restart (a redeploy, on Vercel) does to the app this process serves: it reads
 * its Config once per process (lib/tokenkeeper.ts keeps it on globalThis), and builds
 * it again from process.env as it is now on its next use.
 */
export function restartApp(): void {
  delete (globalThis as { tokenkeeper?: Tokenkeeper }).tokenkeeper;
}

/** A token engine of its own (its own single-flight), wired as the app's is; `options` override its settings. */
export function engineFor(stack: TestStack, options: Partial<EngineOptions> = {}) {
  return tokenkeeperFor(stack, options).engine;
}

/** One sweep run over the stack's database by `engine` (default: a new one), under the app's policy with `overrides`. */
export function sweepOnce(stack: TestStack, { engine, ...overrides }: Partial<SweepPolicy> & { engine?: TokenEngine } = {}) {
  const app = tokenkeeperFor(stack);
  return sweepExpiringTokens({ db: stack.db, engine: engine ?? app.engine, policy: { ...app.sweepPolicy, ...overrides } });
}

/**
 * Sets the embedded database's clock `seconds` ahead of this process's (negative:
 * behind), as a database server whose clock drifted from the app's: the app's SQL
 * calls now() unqualified, and public.now() comes first on the search path. PGlite
 * only (one session holds the setting); 0 sets the two clocks level again.
 */
export async function skewDatabaseClock(stack: TestStack, seconds: number): Promise<void> {
  const [[version]] = (await stack.backend.query({ query: "SELECT version()", params: [] })).rows as [[string]];
  // A server's pool would set the search path on one connection of many.
  if (!version.includes("PGlite")) throw new Error("skewDatabaseClock needs the embedded database (PGlite)");
  await stack.backend.query({
    query: `CREATE OR REPLACE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql STABLE AS $$ SELECT pg_catalog.now() + ${Number(seconds)} * interval '1 second' $$`,
    params: [],
  });
  await stack.backend.query({ query: "SET search_path TO public, pg_catalog", params: [] });
}
