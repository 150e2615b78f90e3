// `npm run tokens:reencrypt`: after putting a new key first in TOKEN_ENCRYPTION_KEYS,
// moves every stored token under it; then the old key can be dropped.
import { db } from "../lib/db/client";
import { keyring } from "../lib/tokens/crypto";
import { reencryptAll } from "../lib/tokens/reencrypt";

try {
  const report = await reencryptAll(db(), keyring());
  console.log(`scanned ${report.scanned} accounts, re-encrypted ${report.reencrypted}, ${report.changedMeanwhile} changed meanwhile (already under the newest key)`);
} catch (error) {
  console.error(`tokens:reencrypt failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
