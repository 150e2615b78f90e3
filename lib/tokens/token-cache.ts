import "server-only";
import type { AccountRow } from "../db/account-row";

// A short in-process cache of fresh access tokens, so a job that calls
// getAccessToken 1,000 times as one user pays one database round trip, not 1,000.
// Correctness rests on three rules:
// - an entry lives at most ttlMs, and never past the moment the engine would refresh
//   the token (expiresAt − skew), so a cached token is one the database read would
//   have handed out too;
// - every write, sign-in, sign-out, disconnect or reauth of an account drops its
//   entries in this process (forgetAccessTokens), and a read that began before such
//   a drop does not store what it read (the epoch check);
// - other instances are not told: there the TTL bounds how long a token stays in use
//   after a change (README, Scaling).
// Memory is bounded: at most maxEntries accounts, least recently used dropped first.

/** Default TOKEN_CACHE_TTL_SECONDS: long enough for a burst of calls, short enough across instances. */
export const DEFAULT_TOKEN_CACHE_TTL_SECONDS = 30;
/** Accounts cached per process at most (~1-2 KB each with the token: ~20 MB at worst). */
export const TOKEN_CACHE_MAX_ENTRIES = 10_000;

/** What a cache hit needs of the row: whose it is, and what noteUse reads and updates. */
export type CachedAccount = Pick<AccountRow, "id" | "userId" | "provider" | "expires_at" | "lastUsedAt" | "refreshedAt" | "refreshTokenExpiresAt" | "reauthBy" | "reauthWarnedAt">;

export type CacheHit = { account: CachedAccount; accessToken: string };

type Entry = CacheHit & { until: number; keys: Set<string> };

export type TokenCacheOptions = {
  /** How long an entry lives (ms); 0 turns the cache off. */
  ttlMs: number;
  maxEntries?: number;
  /** The clock, in epoch ms (the engine's). */
  now?: () => number;
};

/** How getAccessToken's arguments name an account: the user, the provider, and the account id if given. */
export const lookupKey = (userId: string, provider: string, accountId?: string) => `${userId}\u0000${provider}\u0000${accountId ?? ""}`;

export type Forget = { accountId: string } | { userId: string };

// Every cache of this process, so a change made anywhere in it (an Auth.js event, a
// route, another engine) reaches each; weakly held, so a dropped engine's cache goes.
// On globalThis: `next build` bundles this module once for the route handlers and again
// for the pages and server actions (sign-out), and a change made through one copy must
// reach the caches the other copy's engine keeps.
const REGISTRY = Symbol.for("tokenkeeper.tokenCaches");
const registry = globalThis as { [REGISTRY]?: Set<WeakRef<{ forget(scope: Forget): void }>> };
registry[REGISTRY] ??= new Set();
const caches = registry[REGISTRY];

/**
 * Drops the cached tokens of one account, or of all a user's accounts (a sign-in may
 * add an account, which makes a provider id ambiguous), in every cache of this
 * process. Call it after the statement that changed them.
 */
export function forgetAccessTokens(scope: Forget): void {
  for (const ref of caches) {
    const cache = ref.deref();
    if (cache) cache.forget(scope);
    else caches.delete(ref);
  }
}

export function createTokenCache({ ttlMs, maxEntries = TOKEN_CACHE_MAX_ENTRIES, now = Date.now }: TokenCacheOptions) {
  // By account id; a Map iterates in insertion order, so re-inserting on a hit keeps
  // the least recently used first.
  const entries = new Map<string, Entry>();
  const lookups = new Map<string, string>();
  // Bumped by every forget: a read that saw an older epoch may hold pre-change data.
  let epoch = 0;

  const drop = (accountId: string) => {
    const entry = entries.get(accountId);
    if (!entry) return;
    entries.delete(accountId);
    for (const key of entry.keys) if (lookups.get(key) === accountId) lookups.delete(key);
  };

  const cache = {
    enabled: ttlMs > 0,
    /** The current epoch: take it before reading the row, hand it to set(). */
    epoch: () => epoch,

    /** The cached token getAccessToken(…) would return for `key`, if still good. */
    get(key: string): CacheHit | undefined {
      const accountId = lookups.get(key);
      const entry = accountId === undefined ? undefined : entries.get(accountId);
      if (!entry) return undefined;
      if (entry.until <= now()) {
        drop(entry.account.id);
        return undefined;
      }
      entries.delete(entry.account.id);
      entries.set(entry.account.id, entry);
      return entry;
    },

    /**
     * Remembers a token just read for `key`, until min(now + ttl, `staleAt` (epoch
     * ms: when the engine would refresh it)). Does nothing when the cache is off, the
     * token is about to be stale, or a forget happened since `readEpoch`.
     */
    set(key: string, account: CachedAccount, accessToken: string, { staleAt, readEpoch }: { staleAt: number; readEpoch: number }): void {
      if (ttlMs <= 0 || readEpoch !== epoch) return;
      const until = Math.min(now() + ttlMs, staleAt);
      if (until <= now()) return;
      const previous = entries.get(account.id);
      const keys = new Set(previous?.keys).add(key);
      entries.delete(account.id);
      const { id, userId, provider, expires_at, lastUsedAt, refreshedAt, refreshTokenExpiresAt, reauthBy, reauthWarnedAt } = account;
      entries.set(account.id, { account: { id, userId, provider, expires_at, lastUsedAt, refreshedAt, refreshTokenExpiresAt, reauthBy, reauthWarnedAt }, accessToken, until, keys });
      lookups.set(key, account.id);
      while (entries.size > maxEntries) drop(entries.keys().next().value!);
    },

    forget(scope: Forget): void {
      epoch += 1;
      if ("accountId" in scope) {
        drop(scope.accountId);
        return;
      }
      for (const entry of [...entries.values()]) if (entry.account.userId === scope.userId) drop(entry.account.id);
    },

    size: () => entries.size,
  };
  caches.add(new WeakRef(cache));
  return cache;
}

export type TokenCache = ReturnType<typeof createTokenCache>;
