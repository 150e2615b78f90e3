// `npm run db:adopt`: brings a database made by @auth/prisma-adapter's own schema
// (plain-text tokens) to Tokenkeeper's, on the database DATABASE_URL names (unset: the
// embedded one), sealing its tokens with TOKEN_ENCRYPTION_KEYS. Running it again
// changes nothing. See ops/adoption.ts.
import { loadOperationsConfig } from "../lib/env";
import { parseKeyring } from "../lib/tokens/crypto";
import { AdoptionRefused, adoptDatabase } from "./adoption";
import { loadEnvLocal, openDatabase } from "./database";

loadEnvLocal();
try {
  const config = loadOperationsConfig();
  const keyring = parseKeyring(config.TOKEN_ENCRYPTION_KEYS);
  const { backend } = await openDatabase(config, { poolSize: 1 });
  try {
    const report = await adoptDatabase(backend, keyring);
    const schema = { authjs: "Auth.js schema baselined", tokenkeeper: "schema already Tokenkeeper's", empty: "no Auth.js tables: a new database" }[report.schema];
    console.log(
      `${schema}; ${report.migrationsApplied.length ? `applied: ${report.migrationsApplied.join(", ")}` : "schema up to date"}; ` +
        `${report.accounts} accounts, ${report.tokensEncrypted} tokens encrypted` +
        (report.accountsChangedMeanwhile ? `, ${report.accountsChangedMeanwhile} changed meanwhile (run it again)` : ""),
    );
  } finally {
    await backend.close();
  }
} catch (error) {
  console.error(`db:adopt ${error instanceof AdoptionRefused ? "refused" : "failed"}: ${(error as Error).message}`);
  process.exitCode = 1;
}
