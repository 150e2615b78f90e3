// Where the operations commands (db:migrate, tokens:reencrypt) and the dev stack
// find the database, the places the README documents: DATABASE_URL (a local server
// or Neon, over TCP, which Neon accepts too) or, unset, the embedded database that
// `npm start` keeps in .tokenkeeper/. No running `npm start` is needed.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { OperationsConfig } from "../lib/env";
import { configError } from "../lib/errors";
import { openPglite, openPostgres, type SqlBackend } from "./sql-backend";

export const DEFAULT_HOME = join(import.meta.dirname, "..", ".tokenkeeper");
// PGlite needs no password; the local Neon endpoint in front of it checks this one,
// new each time the database is opened, so only the process given it gets in.
const embeddedDatabaseUrl = () => `postgresql://tokenkeeper:${randomBytes(24).toString("base64url")}@localhost/tokenkeeper`;
/** Written by the dev stack while it has the embedded database open (PGlite allows one process). */
export const STACK_PID_FILE = "stack.pid";

export const tokenkeeperHome = (config: Pick<OperationsConfig, "TOKENKEEPER_HOME">) => config.TOKENKEEPER_HOME ?? DEFAULT_HOME;

/**
 * Reads .env.local into process.env, as Next.js does (and `vercel env pull` writes
 * it): a variable set in the shell still wins. Lets a local operator keep a rotated
 * key or secret there instead of in the generated .tokenkeeper/secrets.json.
 */
export function loadEnvLocal(root = join(import.meta.dirname, "..")): void {
  const file = join(root, ".env.local");
  if (existsSync(file)) process.loadEnvFile(file);
}

function runningStack(home: string): number | undefined {
  const file = join(home, STACK_PID_FILE);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8"));
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined; // a stack that died without cleaning up
  }
}

export type OpenedDatabase = { backend: SqlBackend; url: string; embedded: boolean };

/**
 * Opens the database `config` names (lib/env.ts loadOperationsConfig): DATABASE_URL
 * through a pg pool of `poolSize`, or the embedded PGlite in TOKENKEEPER_HOME.
 * Refuses the embedded one on Vercel (a build without DATABASE_URL must fail, not
 * migrate a throwaway database) and while another process has it open.
 */
export async function openDatabase(config: OperationsConfig, { poolSize = 2 } = {}): Promise<OpenedDatabase> {
  const databaseUrl = config.DATABASE_URL;
  if (databaseUrl) {
    const url = new URL(databaseUrl);
    const backend = openPostgres(databaseUrl, poolSize);
    try {
      await backend.query({ query: "SELECT 1", params: [] });
    } catch (error) {
      await backend.close().catch(() => {});
      const reason = (error as { code?: string; message?: string }).code ?? (error as Error).message;
      throw configError(`DATABASE_URL names a database that cannot be reached (${url.hostname}:${url.port || 5432}, ${reason}).`);
    }
    return { backend, url: databaseUrl, embedded: false };
  }
  if (config.VERCEL) throw configError("DATABASE_URL is not set: set it in the Vercel project's environment variables (the embedded database is for local use only).");
  const home = tokenkeeperHome(config);
  const pid = runningStack(home);
  if (pid !== undefined) throw configError(`npm start (pid ${pid}) has the embedded database open: stop it first, then run this again.`);
  return { backend: await openPglite(join(home, "pglite")), url: embeddedDatabaseUrl(), embedded: true };
}
