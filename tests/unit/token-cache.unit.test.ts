import { describe, expect, it } from "vitest";
import { createTokenCache, forgetAccessTokens, lookupKey, type CachedAccount } from "@/lib/tokens/token-cache";

// The cache's rules on their own: TTL, never past the refresh moment, LRU bound,
// in-process invalidation (issue #23). The engine's use of it runs in
// tests/pglite/token-cache.test.ts against a real database.

const account = (id: string, userId = `user-${id}`): CachedAccount => ({
  id,
  userId,
  provider: "oidc",
  expires_at: null,
  lastUsedAt: null,
  refreshedAt: null,
  refreshTokenExpiresAt: null,
  reauthBy: null,
  reauthWarnedAt: null,
});

function clocked(ttlMs: number, maxEntries?: number) {
  let now = 1_000_000;
  const cache = createTokenCache({ ttlMs, maxEntries, now: () => now });
  return { cache, tick: (ms: number) => (now += ms), at: () => now };
}

describe("token cache", () => {
  it("hands a stored token back until the TTL ends", () => {
    const { cache, tick } = clocked(30_000);
    const key = lookupKey("user-a", "oidc");
    cache.set(key, account("a", "user-a"), "token-a", { staleAt: Infinity, readEpoch: cache.epoch() });
    expect(cache.get(key)?.accessToken).toBe("token-a");
    tick(29_999);
    expect(cache.get(key)?.accessToken).toBe("token-a");
    tick(1);
    expect(cache.get(key)).toBeUndefined();
  });

  it("never keeps a token past the moment the engine would refresh it (expiresAt − skew)", () => {
    const { cache, tick, at } = clocked(30_000);
    const key = lookupKey("user-a", "oidc");
    cache.set(key, account("a", "user-a"), "token-a", { staleAt: at() + 5_000, readEpoch: cache.epoch() });
    tick(5_000);
    expect(cache.get(key)).toBeUndefined();
    cache.set(key, account("a", "user-a"), "token-a", { staleAt: at(), readEpoch: cache.epoch() });
    expect(cache.size()).toBe(0);
  });

  it("stores nothing with a TTL of 0 (TOKEN_CACHE_TTL_SECONDS=0)", () => {
    const { cache } = clocked(0);
    cache.set(lookupKey("user-a", "oidc"), account("a", "user-a"), "token-a", { staleAt: Infinity, readEpoch: cache.epoch() });
    expect(cache.size()).toBe(0);
    expect(cache.enabled).toBe(false);
  });

  it("keys by account: an account id lookup and a provider lookup of one account are dropped together", () => {
    const { cache } = clocked(30_000);
    const byProvider = lookupKey("user-a", "oidc");
    const byId = lookupKey("user-a", "oidc", "a");
    expect(byProvider).not.toBe(byId);
    cache.set(byProvider, account("a", "user-a"), "token-a", { staleAt: Infinity, readEpoch: cache.epoch() });
    cache.set(byId, account("a", "user-a"), "token-a", { staleAt: Infinity, readEpoch: cache.epoch() });
    expect(cache.size()).toBe(1);
    cache.forget({ accountId: "a" });
    expect(cache.get(byProvider)).toBeUndefined();
    expect(cache.get(byId)).toBeUndefined();
  });

  it("drops every account of a user, and only those, on a user-wide forget", () => {
    const { cache } = clocked(30_000);
    for (const [id, user] of [
      ["a", "u1"],
      ["b", "u1"],
      ["c", "u2"],
    ] as const) {
      cache.set(lookupKey(user, "oidc", id), account(id, user), `token-${id}`, { staleAt: Infinity, readEpoch: cache.epoch() });
    }
    cache.forget({ userId: "u1" });
    expect(cache.get(lookupKey("u1", "oidc", "a"))).toBeUndefined();
    expect(cache.get(lookupKey("u1", "oidc", "b"))).toBeUndefined();
    expect(cache.get(lookupKey("u2", "oidc", "c"))?.accessToken).toBe("token-c");
  });

  it("does not store what a read saw before a forget (a sign-out landing mid-read)", () => {
    const { cache } = clocked(30_000);
    const readEpoch = cache.epoch();
    cache.forget({ userId: "user-a" });
    cache.set(lookupKey("user-a", "oidc"), account("a", "user-a"), "stale", { staleAt: Infinity, readEpoch });
    expect(cache.size()).toBe(0);
  });

  it("holds at most maxEntries accounts, dropping the least recently used", () => {
    const { cache } = clocked(30_000, 2);
    const key = (id: string) => lookupKey(`user-${id}`, "oidc");
    for (const id of ["a", "b"]) cache.set(key(id), account(id), id, { staleAt: Infinity, readEpoch: cache.epoch() });
    expect(cache.get(key("a"))?.accessToken).toBe("a"); // a is now the most recent
    cache.set(key("c"), account("c"), "c", { staleAt: Infinity, readEpoch: cache.epoch() });
    expect(cache.size()).toBe(2);
    expect(cache.get(key("b"))).toBeUndefined();
    expect(cache.get(key("a"))?.accessToken).toBe("a");
    expect(cache.get(key("c"))?.accessToken).toBe("c");
  });

  it("forgetAccessTokens reaches every cache of the process", () => {
    const one = clocked(30_000).cache;
    const two = clocked(30_000).cache;
    for (const cache of [one, two]) cache.set(lookupKey("user-x", "oidc"), account("x", "user-x"), "token-x", { staleAt: Infinity, readEpoch: cache.epoch() });
    forgetAccessTokens({ accountId: "x" });
    expect(one.size() + two.size()).toBe(0);
  });
});
