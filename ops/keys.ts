// `npm run keys:create -- --name worker --scopes tokens:read,proxy [--rate 10]`,
// `npm run keys:list`, `npm run keys:revoke -- <id, or a name only one live key has>`: API keys for the app's
// other services, on the database the operations commands use (DATABASE_URL, or the
// embedded one). A new key is printed once; only its hash is stored.
import { parseArgs } from "node:util";
import { API_KEY_SCOPES, createApiKey, parseScopes } from "../lib/api-keys";
import { listApiKeys, revokeApiKey } from "../lib/db/api-keys";
import { loadOperationsConfig, MAX_KEY_RATE } from "../lib/env";
import { decimalInteger } from "../lib/params";
import { loadEnvLocal } from "./database";
import { openOperationsDb } from "./operations-db";

const USAGE = `usage:
  npm run keys:create -- --name <name> --scopes <${API_KEY_SCOPES.join(",")}> [--rate <requests a second>]
  npm run keys:list
  npm run keys:revoke -- <id or name>`;

/** --rate as the env's TOKENKEEPER_API_KEY_RATE reads: plain decimal digits (not "0x10", "1e3" or ""), 1 to MAX_KEY_RATE. */
function keyRate(value: string): number {
  const parsed = decimalInteger(1, MAX_KEY_RATE).safeParse(value);
  if (!parsed.success) throw new Error(`--rate (requests a second) ${parsed.error.issues[0]!.message}, not "${value}"`);
  return parsed.data;
}

loadEnvLocal();
const [command, ...rest] = process.argv.slice(2);
try {
  const { values, positionals } = parseArgs({ args: rest, options: { name: { type: "string" }, scopes: { type: "string" }, rate: { type: "string" } }, allowPositionals: true });
  if (command === "create" && (!values.name || !values.scopes)) throw new Error(`--name and --scopes are needed\n${USAGE}`);
  if (command === "revoke" && positionals.length !== 1) throw new Error(`name one key\n${USAGE}`);
  if (!["create", "list", "revoke"].includes(command ?? "")) throw new Error(USAGE);
  const scopes = command === "create" ? parseScopes(values.scopes!) : [];
  const { db, close } = await openOperationsDb(loadOperationsConfig());
  try {
    if (command === "create") {
      const created = await createApiKey(db, { name: values.name!, scopes, rate: values.rate === undefined ? null : keyRate(values.rate) });
      console.log(`created key ${created.id} "${created.name}" with scopes ${created.scopes.join(",")}; it is shown this once, keep it secret:`);
      console.log(created.key);
    } else if (command === "list") {
      const keys = await listApiKeys(db);
      if (keys.length === 0) console.log("no API keys");
      for (const key of keys) {
        const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : "active";
        console.log(
          `${key.id}  ${key.name}  ${key.scopes.join(",")}  ${state}  created ${key.createdAt.toISOString()}  last used ${key.lastUsedAt?.toISOString() ?? "never"}${key.rate ? `  ${key.rate}/s` : ""}`,
        );
      }
    } else {
      const { revoked, sameName } = await revokeApiKey(db, positionals[0]!);
      if (sameName.length > 1) throw new Error(`${sameName.length} active keys are named "${positionals[0]}": revoke one by its id (${sameName.join(", ")})`);
      if (revoked === 0) throw new Error(`no active key has the id or name "${positionals[0]}"`);
      console.log("revoked 1 key");
    }
  } finally {
    await close();
  }
} catch (error) {
  console.error(`keys:${command ?? ""} failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
