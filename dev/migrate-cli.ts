// `npm run db:migrate`: applies prisma/migrations to DATABASE_URL (over TCP, which
// Neon also accepts), or to the embedded database when DATABASE_URL is unset.
import { join } from "node:path";
import { applyMigrations } from "./migrations";
import { DEFAULT_HOME } from "./stack";
import { openPglite, openPostgres } from "./sql-backend";

const url = process.env.DATABASE_URL;
const backend = url ? openPostgres(url, 1) : await openPglite(join(process.env.TOKENKEEPER_HOME ?? DEFAULT_HOME, "pglite"));
try {
  const applied = await applyMigrations(backend);
  console.log(applied.length ? `applied: ${applied.join(", ")}` : "schema up to date");
} catch (error) {
  console.error(`db:migrate failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await backend.close();
}
