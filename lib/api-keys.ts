import "server-only";
import { createHash, randomBytes } from "node:crypto";
import { sameSecret } from "./constant-time";
import type { AccountRow } from "./db/account-row";
import { findKeyWithAccount, insertApiKey, recordKeyUse, type KeyFields } from "./db/api-keys";
import type { Db } from "./db/client";
import { MAX_KEY_RATE } from "./env";
import { invalidRequest, AppError, unauthorized } from "./errors";
import { logger } from "./log";
import { type Bucket, takeToken } from "./rate-limit";

// API keys for the app's other services (/api/v1). A key is `tk_live_<id>_<secret>`:
// the prefix lets secret scanners find a leaked one (as GitHub's `ghp_` does), the id
// finds its row, and only the SHA-256 of the whole key is stored, compared in
// constant time.

const log = logger("api-keys");

/** What a key may do, each route needing one. */
export const API_KEY_SCOPES = ["accounts:read", "tokens:read", "proxy", "reconnect"] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const API_KEY_PREFIX = "tk_live_";
const KEY_FORMAT = /^tk_live_([0-9a-f]{20})_([A-Za-z0-9_-]{43})$/;

const hashOf = (key: string) => createHash("sha256").update(key).digest("hex");

/** Parses `--scopes a,b`: every scope must be one of API_KEY_SCOPES (400 names the unknown one). */
export function parseScopes(list: string): ApiKeyScope[] {
  const scopes = [
    ...new Set(
      list
        .split(",")
        .map((scope) => scope.trim())
        .filter(Boolean),
    ),
  ];
  if (scopes.length === 0) throw invalidRequest(`name at least one scope: ${API_KEY_SCOPES.join(", ")}`);
  for (const scope of scopes) {
    if (!(API_KEY_SCOPES as readonly string[]).includes(scope)) throw invalidRequest(`unknown scope "${scope}": the scopes are ${API_KEY_SCOPES.join(", ")}`);
  }
  return scopes as ApiKeyScope[];
}

export type NewApiKey = { id: string; name: string; key: string; scopes: ApiKeyScope[]; rate: number | null };

/**
 * Creates a key and stores its hash; the answer holds the only copy of the key.
 * `rate`: requests a second for this key (null: TOKENKEEPER_API_KEY_RATE).
 */
export async function createApiKey(db: Db, { name, scopes, rate = null }: { name: string; scopes: ApiKeyScope[]; rate?: number | null }): Promise<NewApiKey> {
  if (!/^[\w .:-]{1,80}$/.test(name)) throw invalidRequest("the name is 1 to 80 letters, digits, spaces or . : _ -");
  if (rate !== null && (!Number.isInteger(rate) || rate < 1 || rate > MAX_KEY_RATE)) throw invalidRequest(`the rate is a whole number of requests a second, 1 to ${MAX_KEY_RATE}`);
  const id = randomBytes(10).toString("hex");
  const key = `${API_KEY_PREFIX}${id}_${randomBytes(32).toString("base64url")}`;
  await insertApiKey(db, { id, name, hash: hashOf(key), scopes, rate });
  return { id, name, key, scopes, rate };
}

/** The key a request carries, and the account it names (read in the same statement). */
export type Authenticated = { key: KeyFields; account: AccountRow | null };

/**
 * Checks `Authorization: Bearer <key>` for `scope`: 401 unauthorized when missing,
 * 401 invalid_token when malformed, unknown or revoked, 403 insufficient_scope,
 * 429 rate_limited past the key's rate. Reads the key and the account `accountId`
 * names in one statement. Nothing else happens before this passes.
 */
export async function authenticateKey(db: Db, header: string | null, scope: ApiKeyScope, accountId: string | null, limiter: KeyRateLimiter): Promise<Authenticated> {
  const bearer = /^Bearer (\S+)$/i.exec(header ?? "")?.[1];
  if (!bearer) throw unauthorized("Send an API key: Authorization: Bearer tk_live_…");
  const id = KEY_FORMAT.exec(bearer)?.[1];
  if (!id) throw new AppError("invalid_token", "This is not a Tokenkeeper API key.");
  const found = await findKeyWithAccount(db, id, accountId);
  // Compared in constant time, and for an unknown id too, so timing tells nothing.
  const matches = sameSecret(hashOf(bearer), found?.key.keyHash ?? "");
  if (!found || !matches) throw new AppError("invalid_token", "Unknown API key.");
  if (found.key.keyRevokedAt) throw new AppError("invalid_token", "This API key was revoked.");
  if (!found.key.keyScopes.includes(scope)) {
    throw new AppError("insufficient_scope", `This API key lacks the "${scope}" scope (it has: ${found.key.keyScopes.join(", ") || "none"}).`, { details: { scope } });
  }
  limiter.take(found.key.keyId, found.key.keyRate);
  if (!found.key.keyLastUsedAt || Date.now() - found.key.keyLastUsedAt.getTime() > 60_000) {
    void recordKeyUse(db, found.key.keyId).catch((error: unknown) => log.warn("key.use_record_failed", { keyId: found.key.keyId, error }));
  }
  return found;
}

export type KeyRateLimiter = { take(keyId: string, rate: number | null): void };

/**
 * A token bucket per key, in this process: `rate` requests a second (the key's own,
 * else `defaultRate`), bursts of twice that. Past it: 429 rate_limited with
 * Retry-After. Each serverless instance keeps its own buckets.
 */
export function keyRateLimiter(defaultRate: number, now: () => number = Date.now): KeyRateLimiter {
  const buckets = new Map<string, Bucket>();
  return {
    take(keyId, ownRate) {
      const rate = ownRate ?? defaultRate;
      const at = now();
      const { bucket, waitMs } = takeToken(buckets.get(keyId), at, { perSecond: rate, burst: rate * 2 });
      buckets.set(keyId, bucket);
      if (waitMs > 0) throw new AppError("rate_limited", `this API key is limited to ${rate} requests a second`, { retryAfter: new Date(at + waitMs) });
    },
  };
}
