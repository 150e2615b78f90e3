import "server-only";
import { readTokenPage, rewrapTokens } from "../db/accounts";
import type { Db } from "../db/client";
import { decryptOptional, encryptOptional, needsReencryption, type Keyring } from "./crypto";

export type ReencryptReport = { scanned: number; reencrypted: number; changedMeanwhile: number };

const TOKEN_FIELDS = ["access_token", "refresh_token", "id_token"] as const;

/**
 * Moves every stored token under the newest key of TOKEN_ENCRYPTION_KEYS (and binds
 * tokens written before slots were bound to theirs), page by page. A row that a refresh changed meanwhile is left alone: the refresh already
 * wrote under the newest key.
 */
export async function reencryptAll(db: Db, keyring: Keyring, pageSize = 200): Promise<ReencryptReport> {
  const report: ReencryptReport = { scanned: 0, reencrypted: 0, changedMeanwhile: 0 };
  let after = "";
  for (;;) {
    const rows = await readTokenPage(db, after, pageSize);
    if (rows.length === 0) return report;
    after = rows[rows.length - 1]!.id;
    for (const row of rows) {
      report.scanned += 1;
      const stale = TOKEN_FIELDS.filter((field) => row[field] && needsReencryption(keyring, row[field]!));
      if (stale.length === 0) continue;
      const ciphertexts: Partial<Record<(typeof TOKEN_FIELDS)[number], string | null>> = {};
      for (const field of stale) ciphertexts[field] = await encryptOptional(keyring, await decryptOptional(keyring, row[field], row, field), row, field);
      if (await rewrapTokens(db, row.id, row.tokenVersion, ciphertexts)) report.reencrypted += 1;
      else report.changedMeanwhile += 1;
    }
  }
}
