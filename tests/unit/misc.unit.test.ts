import { describe, expect, it } from "vitest";
import { loadConfig, loadOperationsConfig, parseEnv, signOutMode } from "@/lib/env";
import { redact } from "@/lib/log";
import { backoffMs } from "@/lib/tokens/engine";
import { parseRetryAfter } from "@/lib/providers/requests";

const valid = {
  DATABASE_URL: "postgresql://u:p@ep-x.neon.tech/db",
  AUTH_SECRET: "a".repeat(32),
  TOKEN_ENCRYPTION_KEYS: "k",
};

describe("parseEnv", () => {
  it("applies defaults", () => {
    expect(parseEnv(valid).TOKEN_REFRESH_SKEW_SECONDS).toBe(60);
  });
  it("takes a variable set to nothing (KEY= in .env.local or a dashboard) as unset, never as 0", () => {
    const env = parseEnv({ ...valid, TOKEN_REFRESH_SKEW_SECONDS: "", TOKEN_CACHE_TTL_SECONDS: " ", TOKEN_SWEEP_MAX_WORKERS: "" });
    expect([env.TOKEN_REFRESH_SKEW_SECONDS, env.TOKEN_CACHE_TTL_SECONDS, env.TOKEN_SWEEP_MAX_WORKERS]).toStrictEqual([60, 30, 4]);
    expect(() => parseEnv({ ...valid, AUTH_SECRET: "" })).toThrow("Invalid configuration: AUTH_SECRET is not set.");
  });
  it("names each missing or malformed variable in one sentence", () => {
    expect(() => parseEnv({ ...valid, DATABASE_URL: "mysql://x/y", AUTH_SECRET: undefined })).toThrow(
      'Invalid configuration: DATABASE_URL must be a postgres:// or postgresql:// URL with a host, not "mysql://…"; AUTH_SECRET is not set.',
    );
    expect(() => parseEnv({ ...valid, DATABASE_URL: "not a url" })).toThrow("Invalid configuration: DATABASE_URL is not a valid URL: expected postgresql://user:password@host:port/database.");
  });
});

describe("loadConfig (#17)", () => {
  it("holds the session secrets newest first and the enabled providers, from the same variables the middleware and Auth.js read", () => {
    const config = loadConfig({ ...valid, AUTH_SECRET_1: "b".repeat(32), AUTH_GITHUB_ID: "id", AUTH_GITHUB_SECRET: "secret", AUTH_GOOGLE_ID: "id only" });
    expect(config.sessionSecrets).toStrictEqual(["a".repeat(32), "b".repeat(32)]);
    expect(config.providers.map((provider) => provider.id)).toStrictEqual(["github"]);
  });
  it("refuses a malformed issuer by name instead of leaving its provider out", () => {
    expect(() => loadConfig({ ...valid, AUTH_OIDC_ID: "id", AUTH_OIDC_SECRET: "secret", AUTH_OIDC_ISSUER: "login.example.com" })).toThrow(/AUTH_OIDC_ISSUER/);
  });
});

describe("loadOperationsConfig (#17)", () => {
  it("needs nothing: DATABASE_URL unset (or set to nothing) means the embedded database", () => {
    expect(loadOperationsConfig({})).toStrictEqual({});
    expect(loadOperationsConfig({ DATABASE_URL: " ", TOKENKEEPER_HOME: "/tmp/tk", VERCEL: "1" })).toStrictEqual({ TOKENKEEPER_HOME: "/tmp/tk", VERCEL: "1" });
  });
  it("parses DATABASE_URL as the app's Config does, with the same words", () => {
    expect(loadOperationsConfig({ DATABASE_URL: " postgresql://u@db.example.com/x " }).DATABASE_URL).toBe("postgresql://u@db.example.com/x");
    expect(() => loadOperationsConfig({ DATABASE_URL: "mysql://x/y" })).toThrow('Invalid configuration: DATABASE_URL must be a postgres:// or postgresql:// URL with a host, not "mysql://…".');
  });
});

describe("signOutMode (TOKENKEEPER_SIGN_OUT, #22)", () => {
  it("clears by default, and reads clear or keep in any case", () => {
    expect(signOutMode({})).toBe("clear");
    expect(signOutMode({ TOKENKEEPER_SIGN_OUT: " " })).toBe("clear");
    expect(signOutMode({ TOKENKEEPER_SIGN_OUT: "Keep" })).toBe("keep");
    expect(signOutMode({ TOKENKEEPER_SIGN_OUT: "clear" })).toBe("clear");
  });
  it("refuses anything else, naming the variable", () => {
    expect(() => signOutMode({ TOKENKEEPER_SIGN_OUT: "revoke" })).toThrow('TOKENKEEPER_SIGN_OUT must be "clear" or "keep", not "revoke".');
  });
});

describe("redact", () => {
  it("hides secret-bearing fields at any depth and keeps the rest", () => {
    expect(redact({ accountId: "a1", access_token: "x", nested: { refreshToken: "y", list: [{ client_secret: "z", ok: 1 }] }, cookie: "c", Authorization: "Bearer q" })).toStrictEqual({
      accountId: "a1",
      access_token: "[redacted]",
      nested: { refreshToken: "[redacted]", list: [{ client_secret: "[redacted]", ok: 1 }] },
      cookie: "[redacted]",
      Authorization: "[redacted]",
    });
  });
  it("keeps error codes and token versions, and writes dates as ISO strings (#11)", () => {
    expect(redact({ code: "provider_unavailable", tokenVersion: 3, retryAfter: new Date("2026-01-01T00:00:30Z") })).toStrictEqual({
      code: "provider_unavailable",
      tokenVersion: 3,
      retryAfter: "2026-01-01T00:00:30.000Z",
    });
  });
  it("keeps an error's code and its cause, redacted too", () => {
    const cause = Object.assign(new Error("bad answer"), { code: "OAUTH_RESPONSE_BODY_ERROR" });
    const error = Object.assign(new Error("refresh failed", { cause }), { code: "provider_unavailable" });
    expect(redact({ error })).toStrictEqual({
      error: {
        name: "Error",
        message: "refresh failed",
        code: "provider_unavailable",
        status: undefined,
        cause: { name: "Error", message: "bad answer", code: "OAUTH_RESPONSE_BODY_ERROR", status: undefined, cause: undefined },
      },
    });
  });
});

describe("parseRetryAfter", () => {
  const now = new Date("2026-01-01T00:00:00Z");
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("7", now)).toStrictEqual(new Date("2026-01-01T00:00:07Z"));
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:01:00 GMT", now)).toStrictEqual(new Date("2026-01-01T00:01:00Z"));
  });
  it("ignores absent, unreadable or past values", () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter("soon", now)).toBeUndefined();
    expect(parseRetryAfter("0", now)).toBeUndefined();
  });
});

describe("backoffMs", () => {
  it("doubles from one second and stops at ten minutes", () => {
    expect([1, 2, 3, 20].map(backoffMs)).toStrictEqual([1000, 2000, 4000, 600_000]);
  });
});

describe("skewByProvider", () => {
  it("reads TOKEN_REFRESH_SKEW_SECONDS_<PROVIDER> by provider id", async () => {
    const { skewByProvider } = await import("@/lib/env");
    expect(skewByProvider({ TOKEN_REFRESH_SKEW_SECONDS: "60", TOKEN_REFRESH_SKEW_SECONDS_GOOGLE: "300", TOKEN_REFRESH_SKEW_SECONDS_OIDC: "0" })).toStrictEqual({ google: 300, oidc: 0 });
    // Set to nothing: unset, so the global margin applies (not 0).
    expect(skewByProvider({ TOKEN_REFRESH_SKEW_SECONDS_GOOGLE: "" })).toStrictEqual({});
  });
  it("names a malformed one", async () => {
    const { skewByProvider } = await import("@/lib/env");
    expect(() => skewByProvider({ TOKEN_REFRESH_SKEW_SECONDS_DISCORD: "soon" })).toThrow('TOKEN_REFRESH_SKEW_SECONDS_DISCORD must be a whole number of seconds from 0 to 86400, not "soon".');
  });
});
