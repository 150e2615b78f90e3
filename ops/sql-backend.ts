// A database as the operations commands and the local Neon endpoint reach it:
// any server URL through a pg pool (Neon accepts TCP too), or the embedded PGlite.
// Both answer in Neon's shape: every value as Postgres text. PGlite is loaded only
// when the embedded database is opened, so a deployment never loads it.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";

export type Field = { name: string; dataTypeID: number; tableID: number; columnID: number; dataTypeSize: number; dataTypeModifier: number; format: "text" };
export type TextResult = { command: string; rowCount: number | null; rows: (string | null)[][]; fields: Field[] };
export type Statement = { query: string; params: unknown[] };
export type BatchOptions = { isolationLevel?: string; readOnly?: boolean; deferrable?: boolean };

export interface SqlBackend {
  query(statement: Statement): Promise<TextResult>;
  /** Runs all statements in one transaction: all commit, or none. */
  batch(statements: Statement[], options: BatchOptions): Promise<TextResult[]>;
  /** Runs a multi-statement script (migrations) with the simple query protocol. */
  exec(script: string): Promise<void>;
  /**
   * Runs `work` on one connection holding the session advisory lock `key`, so two
   * processes (two deploys, two `npm start`) never do it at once.
   */
  exclusive<T>(key: number, work: (connection: SqlBackend) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const ISOLATION: Record<string, string> = {
  ReadUncommitted: "READ UNCOMMITTED",
  ReadCommitted: "READ COMMITTED",
  RepeatableRead: "REPEATABLE READ",
  Serializable: "SERIALIZABLE",
};

export function beginStatement({ isolationLevel, readOnly, deferrable }: BatchOptions): string {
  const modes: string[] = [];
  if (isolationLevel) {
    const level = ISOLATION[isolationLevel];
    if (!level) throw Object.assign(new Error(`invalid isolation level: ${isolationLevel}`), { code: "22023" });
    modes.push(`ISOLATION LEVEL ${level}`);
  }
  if (readOnly !== undefined) modes.push(readOnly ? "READ ONLY" : "READ WRITE");
  if (deferrable !== undefined) modes.push(deferrable ? "DEFERRABLE" : "NOT DEFERRABLE");
  return `BEGIN ${modes.join(", ")}`.trim();
}

function commandOf(sql: string): string {
  return /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? "";
}

// PGlite parses known types (and the array types it registers at start) into JS
// values, and serializes params by type. Neon speaks text both ways, so every known
// parser and serializer becomes the identity (unknown OIDs already stay text).
function identityFor(...maps: object[]) {
  const identity = <T>(value: T) => value;
  return Object.fromEntries(maps.flatMap((map) => Object.keys(map)).map((oid) => [oid, identity]));
}

export async function openPglite(dataDir: string): Promise<SqlBackend> {
  const { PGlite, types: pgliteTypes } = await import("@electric-sql/pglite");
  mkdirSync(dirname(dataDir), { recursive: true });
  const db = await PGlite.create({ dataDir });
  const own = db as unknown as { parsers: object; serializers: object };
  const textOptions = {
    rowMode: "array" as const,
    parsers: identityFor(pgliteTypes.parsers, own.parsers),
    serializers: identityFor(pgliteTypes.serializers, own.serializers),
  };
  type Runner = Pick<PGlite, "query">;
  const run = async (runner: Runner, { query, params }: Statement): Promise<TextResult> => {
    const result = await runner.query<(string | null)[]>(query, params as unknown[], textOptions);
    const command = commandOf(query);
    return {
      command,
      // PGlite counts only the rows a write affected; Postgres counts SELECTed rows too.
      rowCount: command === "SELECT" || command === "WITH" || command === "VALUES" ? result.rows.length : (result.affectedRows ?? 0),
      rows: result.rows,
      fields: result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID, tableID: 0, columnID: 0, dataTypeSize: -1, dataTypeModifier: -1, format: "text" })),
    };
  };
  const backend: SqlBackend = {
    query: (statement) => run(db, statement),
    async batch(statements, options) {
      // PGlite runs one connection: transaction() holds it exclusively, so a batch
      // is isolated from concurrent single queries exactly as on a server.
      return db.transaction(async (tx) => {
        const begin = beginStatement(options).replace(/^BEGIN\s*/, "");
        if (begin) await tx.query(`SET TRANSACTION ${begin}`);
        const results: TextResult[] = [];
        for (const statement of statements) results.push(await run(tx, statement));
        return results;
      });
    },
    async exec(script) {
      await db.exec(script);
    },
    // One process, one connection: nothing else can run beside it.
    exclusive: (_key, work) => work(backend),
    close: () => db.close(),
  };
  return backend;
}

const rawText = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export function openPostgres(connectionString: string, max = 20): SqlBackend {
  const pool = new pg.Pool({ connectionString, max });
  // An idle client that loses its server must not crash the dev stack.
  pool.on("error", () => {});
  const run = async (client: pg.Pool | pg.PoolClient, { query, params }: Statement): Promise<TextResult> => {
    const result = await client.query({ text: query, values: params, rowMode: "array", types: rawText });
    return {
      command: result.command,
      rowCount: result.rowCount,
      rows: result.rows as (string | null)[][],
      fields: result.fields.map((f) => ({
        name: f.name,
        dataTypeID: f.dataTypeID,
        tableID: f.tableID,
        columnID: f.columnID,
        dataTypeSize: f.dataTypeSize,
        dataTypeModifier: f.dataTypeModifier,
        format: "text",
      })),
    };
  };
  // The same statements on the pool, or on one client held for exclusive work.
  const on = (client: pg.Pool | pg.PoolClient): Omit<SqlBackend, "close"> => ({
    query: (statement) => run(client, statement),
    async batch(statements, options) {
      const connection = client instanceof pg.Pool ? await client.connect() : client;
      try {
        await connection.query(beginStatement(options));
        const results: TextResult[] = [];
        for (const statement of statements) results.push(await run(connection, statement));
        await connection.query("COMMIT");
        return results;
      } catch (error) {
        await connection.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        if (connection !== client) connection.release();
      }
    },
    async exec(script) {
      await client.query(script);
    },
    async exclusive(key, work) {
      const connection = await pool.connect();
      try {
        await connection.query("SELECT pg_advisory_lock($1)", [key]);
        try {
          return await work({ ...on(connection), close: async () => {} });
        } finally {
          await connection.query("SELECT pg_advisory_unlock($1)", [key]);
        }
      } finally {
        connection.release();
      }
    },
  });
  return {
    ...on(pool),
    close: () => pool.end(),
  };
}
