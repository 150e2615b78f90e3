// A local stand-in for Neon's SQL-over-HTTP endpoint, speaking the protocol that
// @neondatabase/serverless's neon() uses (read from its source, v1.2): POST JSON
// {query, params} or {queries: [...]}, Neon-* headers, text values with field OIDs,
// Postgres errors as HTTP 400. For the dev stack, the tests and the operations
// commands: a deployed app talks to Neon itself.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { sameSecret } from "../lib/constant-time";
import type { BatchOptions, SqlBackend, Statement, TextResult } from "./sql-backend";

// The fields neon() copies from a 400 answer onto its NeonDbError.
const ERROR_FIELDS = [
  "severity",
  "code",
  "detail",
  "position",
  "internalPosition",
  "internalQuery",
  "where",
  "schema",
  "table",
  "column",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
] as const;

const MAX_BODY_BYTES = 10 * 1024 * 1024;

class BadRequest extends Error {}

function parseStatement(value: unknown): Statement {
  if (typeof value !== "object" || value === null) throw new BadRequest("each query must be an object");
  const { query, params = [] } = value as { query?: unknown; params?: unknown };
  if (typeof query !== "string") throw new BadRequest('"query" must be a string');
  if (!Array.isArray(params)) throw new BadRequest('"params" must be an array');
  return { query, params };
}

function parseBool(header: string | string[] | undefined): boolean | undefined {
  if (header === undefined) return undefined;
  if (header === "true") return true;
  if (header === "false") return false;
  throw new BadRequest(`invalid boolean header value: ${String(header)}`);
}

function batchOptions(req: IncomingMessage): BatchOptions {
  const isolationLevel = req.headers["neon-batch-isolation-level"];
  return {
    isolationLevel: typeof isolationLevel === "string" ? isolationLevel : undefined,
    readOnly: parseBool(req.headers["neon-batch-read-only"]),
    deferrable: parseBool(req.headers["neon-batch-deferrable"]),
  };
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest("request body too large");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BadRequest("request body is not JSON");
  }
}

function answer(result: TextResult) {
  return { ...result, rowAsArray: true };
}

function postgresError(error: unknown) {
  const e = error as Record<string, unknown> & { message?: string };
  const body: Record<string, unknown> = { message: e.message ?? String(error) };
  for (const field of ERROR_FIELDS) if (e[field] !== undefined) body[field] = String(e[field]);
  return body;
}

const RECENT_STATEMENTS = 1_000;

export type NeonEndpoint = {
  url: string;
  port: number;
  server: Server;
  /** HTTP requests served: each is one database round trip for the driver. */
  requests(): number;
  /** The SQL of the last RECENT_STATEMENTS statements served, oldest first (what a round trip did: reads start with SELECT). */
  statements(): string[];
  close(): Promise<void>;
};

/**
 * Same user, password, host and database, compared in constant time. The driver adds
 * its own query parameters (application_name), so those are not compared.
 */
function sameDatabase(given: string, expected: string): boolean {
  const identity = (value: string) => {
    if (!URL.canParse(value)) return `unparsable:${value}`;
    const url = new URL(value);
    return `${url.protocol}//${url.username}:${url.password}@${url.host}${url.pathname}`;
  };
  return sameSecret(identity(given), identity(expected));
}

export type NeonEndpointOptions = {
  /**
   * The one connection string this endpoint serves, exactly as the app's DATABASE_URL
   * (Neon's driver sends it in every request): any other local process is refused.
   */
  connectionString: string;
  port?: number;
  host?: string;
};

export async function startNeonEndpoint(backend: SqlBackend, { connectionString, port = 0, host = "127.0.0.1" }: NeonEndpointOptions): Promise<NeonEndpoint> {
  let served = 0;
  const recent: string[] = [];
  const seen = (statements: Statement[]) => {
    recent.push(...statements.map((statement) => statement.query));
    recent.splice(0, Math.max(0, recent.length - RECENT_STATEMENTS));
    return statements;
  };
  const server = createServer(async (req, res) => {
    served += 1;
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method !== "POST" || req.url?.split("?")[0] !== "/sql") return send(404, { message: "POST /sql only" });
    const given = req.headers["neon-connection-string"];
    if (typeof given !== "string") return send(400, { message: "missing Neon-Connection-String header" });
    if (!sameDatabase(given, connectionString)) return send(403, { message: "password authentication failed: wrong connection string" });
    try {
      const body = (await readBody(req)) as { queries?: unknown };
      if (Array.isArray(body.queries)) {
        const results = await backend.batch(seen(body.queries.map(parseStatement)), batchOptions(req));
        return send(200, { results: results.map(answer) });
      }
      return send(200, answer(await backend.query(seen([parseStatement(body)])[0]!)));
    } catch (error) {
      if (error instanceof BadRequest) return send(400, { message: error.message });
      return send(400, postgresError(error));
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actualPort}/sql`,
    port: actualPort,
    server,
    requests: () => served,
    statements: () => [...recent],
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
