// `npm run db:migrate`: applies prisma/migrations to the database DATABASE_URL names
// (unset: the embedded one). Run by `vercel-build` before `next build`.
import { loadOperationsConfig } from "../lib/env";
import { loadEnvLocal, openDatabase } from "./database";
import { applyMigrations } from "./migrations";

loadEnvLocal();
try {
  const { backend } = await openDatabase(loadOperationsConfig(), { poolSize: 1 });
  try {
    const applied = await applyMigrations(backend);
    console.log(applied.length ? `applied: ${applied.join(", ")}` : "schema up to date");
  } finally {
    await backend.close();
  }
} catch (error) {
  console.error(`db:migrate failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
