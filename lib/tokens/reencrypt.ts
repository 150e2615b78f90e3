import "server-only";
import type { Db } from "../db/client";
import { decryptOptional, encryptOptional, keyIdOf, type Keyring } from "./crypto";

export type ReencryptReport = { scanned: number; reencrypted: number; changedMeanwhile: number };

const TOKEN_FIELDS = ["access_token", "refresh_token", "id_token"] as const;

/**
 * Moves every stored token under the newest key of TOKEN_ENCRYPTION_KEYS, page by
 * page. Each row is written only if its token version is unchanged since it was
 * read: a refresh that lands meanwhile already wrote under the newest key.
 */
export async function reencryptAll(db: Db, keyring: Keyring, pageSize = 200): Promise<ReencryptReport> {
  const report: ReencryptReport = { scanned: 0, reencrypted: 0, changedMeanwhile: 0 };
  let after = "";
  for (;;) {
    const rows = await db.account.findMany({
      where: { id: { gt: after } },
      orderBy: { id: "asc" },
      take: pageSize,
      select: { id: true, tokenVersion: true, access_token: true, refresh_token: true, id_token: true },
    });
    if (rows.length === 0) return report;
    after = rows[rows.length - 1]!.id;
    for (const row of rows) {
      report.scanned += 1;
      const stale = TOKEN_FIELDS.filter((field) => row[field] && keyIdOf(row[field]!) !== keyring.current.kid);
      if (stale.length === 0) continue;
      const data: Partial<Record<(typeof TOKEN_FIELDS)[number], string | null>> = {};
      for (const field of stale) data[field] = await encryptOptional(keyring, await decryptOptional(keyring, row[field]));
      const { count } = await db.account.updateMany({ where: { id: row.id, tokenVersion: row.tokenVersion }, data });
      if (count === 1) report.reencrypted += 1;
      else report.changedMeanwhile += 1;
    }
  }
}
