import "server-only";
import type { AccountRow } from "./account-row";
import type { Db } from "./client";
import type { ApiKey } from "./generated/client";

// API keys and the audit of the tokens they were handed. Each function is ONE
// statement. A key row holds the hash of the key, never the key.

export type ApiKeyRow = ApiKey;

/** Stores a new key (already hashed). */
export async function insertApiKey(db: Db, key: Pick<ApiKey, "id" | "name" | "hash" | "scopes" | "rate">): Promise<void> {
  await db.apiKey.create({ data: key });
}

/** Every key, newest first, with when it was last used (for `keys:list`). */
export function listApiKeys(db: Db): Promise<Omit<ApiKey, "hash">[]> {
  return db.apiKey.findMany({ orderBy: { createdAt: "desc" }, omit: { hash: true } });
}

/**
 * Revokes the live key with this id, or else the one live key with this name. An id
 * wins over a name (a name may look like another key's id). Answers `{revoked}` (0 or
 * 1), and the ids of the live keys that share the name when no id matched and the name
 * names more than one (then nothing is revoked: names are not unique, and replacing a
 * key under the same name must not end both). One statement; a key revoked before
 * keeps its first revocation time.
 */
export async function revokeApiKey(db: Db, idOrName: string): Promise<{ revoked: number; sameName: string[] }> {
  const [row] = await db.$queryRaw<{ revoked: number; sameName: string[] }[]>`
    WITH byId AS (SELECT id FROM "ApiKey" WHERE id = ${idOrName} AND "revokedAt" IS NULL),
    named AS (SELECT id FROM "ApiKey" WHERE name = ${idOrName} AND "revokedAt" IS NULL AND NOT EXISTS (SELECT 1 FROM byId)),
    target AS (SELECT id FROM byId UNION ALL SELECT id FROM named WHERE (SELECT count(*) FROM named) = 1),
    revoked AS (UPDATE "ApiKey" SET "revokedAt" = now() WHERE id IN (SELECT id FROM target) RETURNING id)
    SELECT (SELECT count(*) FROM revoked)::int AS revoked,
           CASE WHEN (SELECT count(*) FROM named) > 1 THEN ARRAY(SELECT id FROM named ORDER BY id) ELSE ARRAY[]::text[] END AS "sameName"`;
  return row!;
}

/** The key's columns a request needs, prefixed so they never clash with the Account's. */
export type KeyFields = { keyId: string; keyName: string; keyHash: string; keyScopes: string[]; keyRate: number | null; keyRevokedAt: Date | null; keyLastUsedAt: Date | null };

/**
 * The key with this id and, in the same statement, the account the request names
 * (null when there is none or no `accountId` was given): one round trip for a
 * service request, whatever it asks. Null when no key has this id.
 */
export async function findKeyWithAccount(db: Db, keyId: string, accountId: string | null): Promise<{ key: KeyFields; account: AccountRow | null } | null> {
  const rows = await db.$queryRaw<(KeyFields & AccountRow)[]>`
    SELECT k.id AS "keyId", k.name AS "keyName", k.hash AS "keyHash", k.scopes AS "keyScopes", k.rate AS "keyRate",
           k."revokedAt" AS "keyRevokedAt", k."lastUsedAt" AS "keyLastUsedAt", a.*
      FROM "ApiKey" k LEFT JOIN "Account" a ON a.id = ${accountId}
     WHERE k.id = ${keyId}`;
  const row = rows[0];
  if (!row) return null;
  const { keyId: id, keyName, keyHash, keyScopes, keyRate, keyRevokedAt, keyLastUsedAt, ...account } = row;
  return { key: { keyId: id, keyName, keyHash, keyScopes, keyRate, keyRevokedAt, keyLastUsedAt }, account: account.id === null ? null : (account as AccountRow) };
}

/** Records that the key was used, at most once a minute (the compare keeps concurrent writers from repeating it). */
export async function recordKeyUse(db: Db, keyId: string): Promise<void> {
  await db.$executeRaw`
    UPDATE "ApiKey" SET "lastUsedAt" = now()
     WHERE id = ${keyId} AND ("lastUsedAt" IS NULL OR "lastUsedAt" < now() - interval '1 minute')`;
}

export type TokenAuditWrite = { keyId: string; accountId: string; refreshed: boolean; minTtl: number; purpose: string | null };

/**
 * One audit row: this key was handed this account's access token, now. Its own
 * statement, not part of the read (findKeyWithAccount): that read runs before the
 * key's hash is compared (in constant time, in JS), its scope and rate checked and the
 * token decided on, so a row written there would record refused requests and 409s
 * that got no token, and could not say whether the token was refreshed; the refresh's
 * own write runs only when a refresh does, inside the engine, which knows no keys.
 * Written before the answer goes out: no token leaves without its row.
 */
export async function insertTokenAudit(db: Db, write: TokenAuditWrite): Promise<void> {
  await db.tokenAudit.create({ data: write, select: { id: true } });
}

export type TokenAuditEntry = { createdAt: Date; keyId: string; keyName: string; accountId: string; provider: string | null; refreshed: boolean; minTtl: number; purpose: string | null };

/** The newest audit rows with the key's name and the account's provider, for the operator panel. */
export function recentTokenAudits(db: Db, take: number): Promise<TokenAuditEntry[]> {
  return db.$queryRaw<TokenAuditEntry[]>`
    SELECT t."createdAt", t."keyId", k.name AS "keyName", t."accountId", a.provider, t.refreshed, t."minTtl", t.purpose
      FROM "TokenAudit" t JOIN "ApiKey" k ON k.id = t."keyId" LEFT JOIN "Account" a ON a.id = t."accountId"
     ORDER BY t."createdAt" DESC
     LIMIT ${take}`;
}
