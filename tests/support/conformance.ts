// The local Neon endpoint must answer exactly as Neon does for the driver: the
// same values through neon() (HTTP) as through pg over the wire, the same errors,
// all-or-nothing batches. Shared by the pglite and postgres suites.
import { neon, neonConfig, type NeonQueryFunction } from "@neondatabase/serverless";
import pg from "pg";
import { describe, expect, it } from "vitest";

export type ConformanceTarget = {
  databaseUrl: string;
  endpointUrl: string;
  /** A pg connection string to the same database, when the backend has a wire server. */
  wireUrl?: string;
};

// [label, SQL, params, value that pg-types yields]
const CASES: [string, string, unknown[], unknown][] = [
  ["int", "SELECT 42::int4 AS v", [], 42],
  ["int param", "SELECT $1::int4 + 1 AS v", [41], 42],
  ["bigint", "SELECT 9007199254740993::int8 AS v", [], "9007199254740993"],
  ["bigint param", "SELECT $1::int8 AS v", ["9007199254740993"], "9007199254740993"],
  ["numeric", "SELECT 123.4500::numeric AS v", [], "123.4500"],
  ["text", "SELECT $1::text AS v", ["héllo, 'world' \\ \u{1F600}"], "héllo, 'world' \\ \u{1F600}"],
  ["bool", "SELECT true AS v", [], true],
  ["timestamptz", "SELECT '2026-01-02T03:04:05.678Z'::timestamptz AS v", [], new Date("2026-01-02T03:04:05.678Z")],
  ["timestamptz param", "SELECT $1::timestamptz AS v", [new Date("2026-01-02T03:04:05.678Z")], new Date("2026-01-02T03:04:05.678Z")],
  ["date", "SELECT '2026-01-02'::date AS v", [], new Date(2026, 0, 2)],
  ["json", `SELECT '{"a":[1,"x",null]}'::json AS v`, [], { a: [1, "x", null] }],
  ["jsonb", "SELECT $1::jsonb AS v", [JSON.stringify({ b: { c: true } })], { b: { c: true } }],
  ["int array", "SELECT ARRAY[1,2,NULL]::int4[] AS v", [], [1, 2, null]],
  ["text array", `SELECT ARRAY['a','b,c','"q"']::text[] AS v`, [], ["a", "b,c", '"q"']],
  ["bytea", "SELECT '\\xdeadbeef'::bytea AS v", [], Buffer.from("deadbeef", "hex")],
  ["bytea param", "SELECT $1::bytea AS v", [Buffer.from([0, 1, 255])], Buffer.from([0, 1, 255])],
  ["uuid", "SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS v", [], "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"],
  ["null", "SELECT NULL::text AS v", [], null],
];

export function conformanceSuite(target: () => ConformanceTarget) {
  let sql: NeonQueryFunction<false, false>;
  const http = () => {
    neonConfig.fetchEndpoint = target().endpointUrl;
    sql ??= neon(target().databaseUrl);
    return sql;
  };
  const wire = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: target().wireUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };

  describe("values", () => {
    it.each(CASES)("%s comes back as pg-types parses it", async (_label, text, params, expected) => {
      const rows = (await http().query(text, params)) as { v: unknown }[];
      expect(rows).toStrictEqual([{ v: expected }]);
      if (target().wireUrl) {
        const direct = await wire((client) => client.query(text, params));
        expect(rows).toStrictEqual(direct.rows);
      }
    });

    it("returns rows, fields and counts in full-results mode", async () => {
      const result = await http().query("SELECT g AS n, 'x' || g AS s FROM generate_series(1, 3) g", [], { fullResults: true, arrayMode: true });
      expect(result.rows).toStrictEqual([
        [1, "x1"],
        [2, "x2"],
        [3, "x3"],
      ]);
      expect(result.fields.map((f) => [f.name, f.dataTypeID])).toStrictEqual([
        ["n", 23],
        ["s", 25],
      ]);
      expect(result.rowCount).toBe(3);
      expect(result.command).toBe("SELECT");
    });
  });

  describe("errors", () => {
    it("carries the Postgres code and message", async () => {
      await expect(http().query("SELECT 1/0")).rejects.toMatchObject({ name: "NeonDbError", code: "22012", message: "division by zero" });
    });
    it("carries the position of a bad column", async () => {
      const error = await http()
        .query("SELECT nosuchcolumn FROM pg_class")
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "42703", position: "8" });
    });
    it("carries the constraint and detail of a unique violation", async () => {
      await http().query("CREATE TABLE IF NOT EXISTS conformance_unique (id int PRIMARY KEY)");
      await http().query("INSERT INTO conformance_unique VALUES (1) ON CONFLICT DO NOTHING");
      const error = await http()
        .query("INSERT INTO conformance_unique VALUES (1)")
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: "23505", constraint: "conformance_unique_pkey", detail: "Key (id)=(1) already exists." });
    });
  });

  describe("transaction batches", () => {
    it("commit every statement together", async () => {
      const db = http();
      await db.query("CREATE TABLE IF NOT EXISTS conformance_batch (id int PRIMARY KEY)");
      await db.query("DELETE FROM conformance_batch");
      const results = await db.transaction([db`INSERT INTO conformance_batch VALUES (1)`, db`INSERT INTO conformance_batch VALUES (2)`, db`SELECT count(*)::int AS n FROM conformance_batch`]);
      expect(results[2]).toStrictEqual([{ n: 2 }]);
    });
    it("roll the whole batch back when one statement fails", async () => {
      const db = http();
      await db.query("CREATE TABLE IF NOT EXISTS conformance_batch (id int PRIMARY KEY)");
      await db.query("DELETE FROM conformance_batch");
      await expect(db.transaction([db`INSERT INTO conformance_batch VALUES (10)`, db`SELECT 1/0`])).rejects.toMatchObject({ code: "22012" });
      expect(await db.query("SELECT count(*)::int AS n FROM conformance_batch")).toStrictEqual([{ n: 0 }]);
    });
    it("honour the isolation level and read-only options", async () => {
      const db = http();
      const [level] = await db.transaction([db`SHOW transaction_isolation`], { isolationLevel: "Serializable", readOnly: true });
      expect(level).toStrictEqual([{ transaction_isolation: "serializable" }]);
      await db.query("CREATE TABLE IF NOT EXISTS conformance_batch (id int PRIMARY KEY)");
      await expect(db.transaction([db`INSERT INTO conformance_batch VALUES (99)`], { readOnly: true })).rejects.toMatchObject({ code: "25006" });
    });
  });

  describe("requests the driver never sends", () => {
    it("answer 400 with a message", async () => {
      const response = await fetch(target().endpointUrl, { method: "POST", headers: { "neon-connection-string": target().databaseUrl }, body: "{not json" });
      expect(response.status).toBe(400);
      expect(await response.json()).toStrictEqual({ message: "request body is not JSON" });
    });
  });

  describe("another local process (#11)", () => {
    const query = JSON.stringify({ query: "SELECT 1", params: [] });
    it("is refused without the app's exact connection string", async () => {
      const other = new URL(target().databaseUrl);
      other.password = "guessed";
      const wrongDatabase = new URL(target().databaseUrl);
      wrongDatabase.pathname = "/another";
      const attempts: Record<string, string>[] = [{}, { "neon-connection-string": other.href }, { "neon-connection-string": wrongDatabase.href }];
      for (const headers of attempts) {
        const response = await fetch(target().endpointUrl, { method: "POST", headers, body: query });
        expect([400, 403]).toContain(response.status);
        expect(JSON.stringify(await response.json())).not.toContain("rows");
      }
    });
  });
}
