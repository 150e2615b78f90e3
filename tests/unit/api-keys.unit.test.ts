import { describe, expect, it } from "vitest";
import { keyRateLimiter, parseScopes } from "@/lib/api-keys";
import { consentParams, sameAccountSignIn, type ConsentMarker } from "@/lib/consent";
import type { AccountRow } from "@/lib/db/account-row";
import type { ConfiguredProvider } from "@/lib/providers/types";
import { minTtlSkew } from "@/lib/tokens/engine";

// The rules of #20 that decide without I/O: key scopes, each key's rate, which
// identity a consent may come back as, and what a consent asks the provider for.

describe("parseScopes", () => {
  it.each([
    ["tokens:read,proxy", ["tokens:read", "proxy"]],
    [" accounts:read , reconnect ,reconnect", ["accounts:read", "reconnect"]],
  ])("reads %j", (list, scopes) => expect(parseScopes(list)).toStrictEqual(scopes));

  it.each([[""], [","], ["tokens:write"], ["tokens:read,admin"]])("refuses %j with 400", (list) => {
    expect(() => parseScopes(list)).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });
});

describe("keyRateLimiter", () => {
  it("allows bursts of twice the rate, then 429 with Retry-After, refilling at the rate; each key apart", () => {
    let now = 0;
    const limiter = keyRateLimiter(2, () => now);
    for (let i = 0; i < 4; i++) limiter.take("a", null);
    expect(() => limiter.take("a", null)).toThrow(expect.objectContaining({ code: "rate_limited", retryAfter: new Date(500) }));
    limiter.take("b", null);
    now = 500;
    limiter.take("a", null);
    expect(() => limiter.take("a", null)).toThrow(expect.objectContaining({ code: "rate_limited" }));
  });

  it("uses a key's own rate over the default", () => {
    const limiter = keyRateLimiter(100, () => 0);
    limiter.take("slow", 1);
    limiter.take("slow", 1);
    expect(() => limiter.take("slow", 1)).toThrow(expect.objectContaining({ code: "rate_limited", retryAfter: new Date(1000) }));
  });
});

describe("sameAccountSignIn", () => {
  const marker: ConsentMarker = { accountId: "acc1", provider: "oidc", providerAccountId: "twin-a", identity: "twin-a@x.test", nonce: "n" };
  it.each([
    ["no marker: an ordinary sign-in", null, { provider: "oidc", providerAccountId: "anyone" }, true],
    ["the marked account", marker, { provider: "oidc", providerAccountId: "twin-a" }, true],
    ["another login at the same provider", marker, { provider: "oidc", providerAccountId: "intruder" }, "/api/v1/consent/refused"],
    ["the same id at another provider", marker, { provider: "google", providerAccountId: "twin-a" }, "/api/v1/consent/refused"],
  ] as const)("%s → %s", (_label, given, account, expected) => {
    expect(sameAccountSignIn(given)({ account })).toStrictEqual(expected);
  });
});

describe("consentParams", () => {
  const provider = { moreScopesParams: { prompt: "login consent" } } as unknown as ConfiguredProvider;
  const row = (scope: string | null, identity: string | null) => ({ scope, identity }) as AccountRow;
  it.each([
    [
      "every scope held plus the new ones, once, and the email as login_hint",
      row("openid email", "a@x.test"),
      ["phone", "email"],
      { prompt: "login consent", scope: "openid email phone", login_hint: "a@x.test" },
    ],
    ["no login_hint for a name that is no email", row("identify", "ada"), [], { prompt: "login consent", scope: "identify" }],
    ["the provider's default scopes when none is stored", row(null, null), [], { prompt: "login consent" }],
  ])("%s", (_label, account, extra, expected) => expect(consentParams(provider, account, extra)).toStrictEqual(expected));
});

describe("minTtlSkew", () => {
  const hourToken = { expires_at: 10_000n + 3600n, refreshedAt: new Date(10_000_000) };
  it.each([
    ["no minTtl: the refresh margin", hourToken, 0, 60],
    ["a minTtl shorter than the margin: the margin", hourToken, 30, 60],
    ["a minTtl within half the lifetime", hourToken, 300, 300],
    ["a minTtl past half the lifetime: half of it", hourToken, 3000, 1800],
    ["no known lifetime (no expiry): the minTtl", { expires_at: null, refreshedAt: null }, 3000, 3000],
  ])("%s", (_label, row, minTtl, skew) => expect(minTtlSkew(row, 60, minTtl)).toBe(skew));
});
