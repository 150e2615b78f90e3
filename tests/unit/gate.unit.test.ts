import { describe, expect, it } from "vitest";
import { gate } from "@/lib/gate";

const url = (path: string) => new URL(path, "http://localhost:3000");

describe("gate", () => {
  it("lets signed-in requests through", () => {
    expect(gate(url("/dashboard"), true)).toStrictEqual({ kind: "pass" });
    expect(gate(url("/api/accounts"), true)).toStrictEqual({ kind: "pass" });
  });
  it("sends signed-out page requests to sign in with the path to come back to", () => {
    expect(gate(url("/dashboard/x?tab=1"), false)).toStrictEqual({ kind: "signin", callbackUrl: "/dashboard/x?tab=1" });
  });
  it("answers 401 for signed-out API requests", () => {
    expect(gate(url("/api/accounts/oidc/refresh"), false)).toStrictEqual({ kind: "unauthorized" });
  });
  it("answers 400 for a path whose percent-encoding does not decode, signed in or not (Next would answer a bare 500)", () => {
    for (const signedIn of [true, false]) {
      expect(gate(url("/api/accounts/%E0%A4%A/refresh"), signedIn)).toStrictEqual({ kind: "invalid_request" });
      expect(gate(url("/dashboard/%ZZ"), signedIn)).toStrictEqual({ kind: "invalid_request" });
    }
    expect(gate(url("/api/accounts/caf%C3%A9/refresh"), true)).toStrictEqual({ kind: "pass" });
  });
  it("does not treat look-alike prefixes as protected", () => {
    expect(gate(url("/dashboards"), false)).toStrictEqual({ kind: "pass" });
    expect(gate(url("/api/accountsx"), false)).toStrictEqual({ kind: "pass" });
  });
});

describe("sessionSecrets", () => {
  it("puts AUTH_SECRET first (it seals new sessions), then the older AUTH_SECRET_1..3", async () => {
    const { sessionSecrets } = await import("@/lib/session-check");
    expect(sessionSecrets({ AUTH_SECRET: "new", AUTH_SECRET_1: "old", AUTH_SECRET_3: "oldest" })).toStrictEqual(["new", "old", "oldest"]);
    expect(sessionSecrets({ AUTH_SECRET: "a,b" })).toStrictEqual(["a,b"]);
    expect(() => sessionSecrets({})).toThrow(/AUTH_SECRET is not set/);
  });
});

describe("middleware matcher", () => {
  it("runs the middleware on exactly the prefixes the gate protects, and on all of /api for the encoding check", async () => {
    const { config } = await import("@/middleware");
    const { ENCODING_CHECKED_PREFIXES, PROTECTED_API_PREFIXES, PROTECTED_PAGE_PREFIXES } = await import("@/lib/gate");
    const covered = config.matcher.map((pattern) => {
      expect(pattern).toMatch(/^\/[a-z/]+\/:path\*$/); // the prefix itself and everything under it
      return pattern.replace(/\/:path\*$/, "");
    });
    expect(covered.sort()).toStrictEqual([...ENCODING_CHECKED_PREFIXES, ...PROTECTED_PAGE_PREFIXES].sort());
    // Every protected prefix is one the middleware runs on.
    for (const prefix of [...PROTECTED_API_PREFIXES, ...PROTECTED_PAGE_PREFIXES]) {
      expect(
        covered.some((matched) => prefix === matched || prefix.startsWith(`${matched}/`)),
        prefix,
      ).toBe(true);
    }
  });
});
