import { describe, expect, it } from "vitest";
import { accountStatus, shouldRefresh } from "@/lib/tokens/status";

const now = new Date("2026-01-01T00:00:00Z");
const epoch = now.getTime() / 1000;
const account = (fields: Partial<Parameters<typeof shouldRefresh>[0]> = {}) => ({
  status: "active",
  access_token: "ciphertext",
  refresh_token: "ciphertext",
  expires_at: epoch + 3600,
  ...fields,
});

describe("shouldRefresh", () => {
  it("keeps a token valid for longer than the skew", () => {
    expect(shouldRefresh(account({ expires_at: epoch + 61 }), now, 60)).toStrictEqual({ should: false, reason: "fresh" });
  });
  it("refreshes a token inside the skew window", () => {
    expect(shouldRefresh(account({ expires_at: epoch + 60 }), now, 60)).toStrictEqual({ should: true, reason: "expiring" });
  });
  it("refreshes an expired token", () => {
    expect(shouldRefresh(account({ expires_at: epoch - 1 }), now, 60)).toStrictEqual({ should: true, reason: "expired" });
  });
  it("never refreshes a token without an expiry", () => {
    expect(shouldRefresh(account({ expires_at: null }), now, 60)).toStrictEqual({ should: false, reason: "no_expiry" });
  });
  it("refreshes when only a refresh token is stored", () => {
    expect(shouldRefresh(account({ access_token: null }), now, 60)).toStrictEqual({ should: true, reason: "no_access_token" });
  });
  it("cannot refresh an expired token without a refresh token", () => {
    expect(shouldRefresh(account({ expires_at: epoch - 1, refresh_token: null }), now, 60)).toStrictEqual({ should: false, reason: "no_refresh_token" });
  });
  it("stops for reauth_required and signed_out accounts", () => {
    expect(shouldRefresh(account({ status: "reauth_required", expires_at: epoch - 1 }), now, 60)).toStrictEqual({ should: false, reason: "reauth_required" });
    expect(shouldRefresh(account({ status: "signed_out" }), now, 60)).toStrictEqual({ should: false, reason: "signed_out" });
  });
});

describe("accountStatus", () => {
  it("names active, expiring and expired by the time left", () => {
    expect(accountStatus({ status: "active", expires_at: epoch + 301 }, now)).toBe("active");
    expect(accountStatus({ status: "active", expires_at: epoch + 300 }, now)).toBe("expiring");
    expect(accountStatus({ status: "active", expires_at: epoch }, now)).toBe("expired");
  });
  it("passes stored states through", () => {
    expect(accountStatus({ status: "reauth_required", expires_at: epoch + 999 }, now)).toBe("reauth_required");
    expect(accountStatus({ status: "signed_out", expires_at: null }, now)).toBe("signed_out");
  });
});
