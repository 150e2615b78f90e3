import { describe, expect, it } from "vitest";
import { accessTokenExpiry, accountStatus, decide, type TokenDecision, type TokenState } from "@/lib/tokens/token-decision";

const now = new Date("2026-01-01T00:00:00Z");
const epoch = BigInt(now.getTime() / 1000);
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);
const account = (fields: Partial<TokenState> = {}): TokenState => ({
  status: "active",
  access_token: "ciphertext",
  refresh_token: "ciphertext",
  expires_at: epoch + 3600n,
  retryAfter: null,
  leaseOwner: null,
  leaseUntil: null,
  tokenVersion: 3,
  ...fields,
});

describe("decide", () => {
  const cases: [string, Partial<TokenState>, { forceAfterVersion?: number }, TokenDecision][] = [
    ["uses a token valid for longer than the skew", { expires_at: epoch + 61n }, {}, { action: "use" }],
    ["refreshes a token inside the skew window", { expires_at: epoch + 60n }, {}, { action: "refresh", reason: "expiring" }],
    ["refreshes an expired token", { expires_at: epoch - 1n }, {}, { action: "refresh", reason: "expired" }],
    ["uses a token without an expiry", { expires_at: null }, {}, { action: "use" }],
    ["refreshes when only a refresh token is stored", { access_token: null }, {}, { action: "refresh", reason: "no_access_token" }],
    ["uses a valid token even without a refresh token", { refresh_token: null }, {}, { action: "use" }],
    ["asks for a sign-in when an expired token has no refresh token", { expires_at: epoch - 1n, refresh_token: null }, {}, { action: "reauth", reason: "no_refresh_token" }],
    ["asks for a sign-in after reauth_required, whatever is stored", { status: "reauth_required" }, {}, { action: "reauth", reason: "reauth_required" }],
    ["asks for a sign-in after sign-out", { status: "signed_out", access_token: null, refresh_token: null }, {}, { action: "reauth", reason: "signed_out" }],
    ["waits while another holder's lease runs", { expires_at: epoch - 1n, leaseOwner: "other", leaseUntil: later(5) }, {}, { action: "wait" }],
    ["ignores a lease that ran out", { expires_at: epoch - 1n, leaseOwner: "dead", leaseUntil: later(-1) }, {}, { action: "refresh", reason: "expired" }],
    ["backs off an expired token until retryAfter", { expires_at: epoch - 1n, retryAfter: later(30) }, {}, { action: "backoff", until: later(30) }],
    ["hands out a not-yet-expired token while backing off", { expires_at: epoch + 30n, retryAfter: later(30) }, {}, { action: "use" }],
    ["refreshes once retryAfter has passed", { expires_at: epoch - 1n, retryAfter: later(-1) }, {}, { action: "refresh", reason: "expired" }],
    ["forces a refresh of a valid token", {}, { forceAfterVersion: 3 }, { action: "refresh", reason: "forced" }],
    ["takes a newer version as the forced refresh done", { tokenVersion: 4 }, { forceAfterVersion: 3 }, { action: "use" }],
    ["backs off a forced refresh instead of using the old token", { retryAfter: later(30) }, { forceAfterVersion: 3 }, { action: "backoff", until: later(30) }],
    ["waits for a lease before a forced refresh", { leaseOwner: "other", leaseUntil: later(5) }, { forceAfterVersion: 3 }, { action: "wait" }],
  ];
  it.each(cases)("%s", (_name, fields, force, expected) => {
    expect(decide(account(fields), { now, skewSeconds: 60, ...force })).toStrictEqual(expected);
  });
});

describe("accessTokenExpiry", () => {
  it("reads the BIGINT epoch seconds Prisma hands out, past 2038 too (#18)", () => {
    expect(accessTokenExpiry(null)).toBeNull();
    expect(accessTokenExpiry(2_147_483_648n)).toStrictEqual(new Date("2038-01-19T03:14:08Z"));
    expect(accessTokenExpiry(2_398_377_600n)).toStrictEqual(new Date("2046-01-01T00:00:00Z"));
  });
});

describe("accountStatus", () => {
  it("names active, expiring and expired by the time left", () => {
    expect(accountStatus({ status: "active", expires_at: epoch + 301n }, now)).toBe("active");
    expect(accountStatus({ status: "active", expires_at: epoch + 300n }, now)).toBe("expiring");
    expect(accountStatus({ status: "active", expires_at: epoch }, now)).toBe("expired");
  });
  it("passes stored states through", () => {
    expect(accountStatus({ status: "reauth_required", expires_at: epoch + 999n }, now)).toBe("reauth_required");
    expect(accountStatus({ status: "signed_out", expires_at: null }, now)).toBe("signed_out");
  });
});
