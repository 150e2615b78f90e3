// `npm run tokens:reencrypt`: after a new key is put first in TOKEN_ENCRYPTION_KEYS,
// moves every stored token under it; then the old key can be dropped.
import { loadOperationsConfig } from "../lib/env";
import { parseKeyring } from "../lib/tokens/crypto";
import { reencryptAll } from "../lib/tokens/reencrypt";
import { loadEnvLocal } from "./database";
import { openOperationsDb } from "./operations-db";

loadEnvLocal();
try {
  const config = loadOperationsConfig();
  const keyring = parseKeyring(config.TOKEN_ENCRYPTION_KEYS);
  const { db, close } = await openOperationsDb(config);
  try {
    const report = await reencryptAll(db, keyring);
    console.log(`scanned ${report.scanned} accounts, re-encrypted ${report.reencrypted}, ${report.changedMeanwhile} changed meanwhile (already under the newest key)`);
  } finally {
    await close();
  }
} catch (error) {
  console.error(`tokens:reencrypt failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
