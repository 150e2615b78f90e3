import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { OAuthConfig } from "next-auth/providers";
import { describe, expect, it } from "vitest";
import { configuredProviders } from "@/lib/providers/registry";
import { parseEnv, webhookConfig } from "@/lib/env";
import { takeToken, type Bucket } from "@/lib/rate-limit";
import { isCrossSite } from "@/lib/same-origin";

// #16: the pure rules behind the proxy rate, the cross-site check and the webhook settings.

describe("the proxy's token bucket", () => {
  const rate = { perSecond: 10, burst: 20 };
  it.each<[string, Bucket | undefined, number, { bucket: Bucket; waitMs: number }]>([
    ["a new user starts with a full burst", undefined, 1_000, { bucket: { tokens: 19, at: 1_000 }, waitMs: 0 }],
    ["one token left is one call", { tokens: 1, at: 1_000 }, 1_000, { bucket: { tokens: 0, at: 1_000 }, waitMs: 0 }],
    ["an empty bucket waits 1/rate", { tokens: 0, at: 1_000 }, 1_000, { bucket: { tokens: 0, at: 1_000 }, waitMs: 100 }],
    ["refills at the rate", { tokens: 0, at: 1_000 }, 1_250, { bucket: { tokens: 1.5, at: 1_250 }, waitMs: 0 }],
    ["never beyond the burst", { tokens: 5, at: 0 }, 60_000, { bucket: { tokens: 19, at: 60_000 }, waitMs: 0 }],
    ["half a token waits for the other half", { tokens: 0.5, at: 1_000 }, 1_000, { bucket: { tokens: 0.5, at: 1_000 }, waitMs: 50 }],
  ])("%s", (_label, bucket, now, expected) => {
    const { bucket: after, waitMs } = takeToken(bucket, now, rate);
    expect({ bucket: { tokens: Number(after.tokens.toFixed(6)), at: after.at }, waitMs }).toStrictEqual(expected);
  });

  it("reads TOKENKEEPER_PROXY_RATE as calls a second and burst", () => {
    const base = { DATABASE_URL: "postgresql://u@h/db", AUTH_SECRET: "a".repeat(32), TOKEN_ENCRYPTION_KEYS: "k" };
    expect(parseEnv(base).TOKENKEEPER_PROXY_RATE).toStrictEqual({ perSecond: 10, burst: 20 });
    expect(parseEnv({ ...base, TOKENKEEPER_PROXY_RATE: "2, 5" }).TOKENKEEPER_PROXY_RATE).toStrictEqual({ perSecond: 2, burst: 5 });
    expect(parseEnv({ ...base, TOKENKEEPER_PROXY_RATE: "0.5" }).TOKENKEEPER_PROXY_RATE).toStrictEqual({ perSecond: 0.5, burst: 1 });
    for (const bad of ["0", "fast", "10,0", "-1,5"]) expect(() => parseEnv({ ...base, TOKENKEEPER_PROXY_RATE: bad }), bad).toThrow(/TOKENKEEPER_PROXY_RATE must be/);
  });

  it("bounds TOKENKEEPER_PROXY_RATE and TOKENKEEPER_API_KEY_RATE, with a config error saying the range", () => {
    const base = { DATABASE_URL: "postgresql://u@h/db", AUTH_SECRET: "a".repeat(32), TOKEN_ENCRYPTION_KEYS: "k" };
    expect(parseEnv({ ...base, TOKENKEEPER_PROXY_RATE: "1000,2000", TOKENKEEPER_API_KEY_RATE: "10000" })).toMatchObject({
      TOKENKEEPER_PROXY_RATE: { perSecond: 1000, burst: 2000 },
      TOKENKEEPER_API_KEY_RATE: 10_000,
    });
    for (const bad of ["1001", "1000000", "10,2001", "0.001"]) {
      expect(() => parseEnv({ ...base, TOKENKEEPER_PROXY_RATE: bad }), bad).toThrow(
        expect.objectContaining({
          code: "config",
          message: expect.stringContaining('TOKENKEEPER_PROXY_RATE must be "<calls a second>[,<burst>]" with 0.01 to 1000 calls a second and a burst of 1 to 2000'),
        }),
      );
    }
    for (const bad of ["10001", "1e9", "0x10", "0", "2.5"]) {
      expect(() => parseEnv({ ...base, TOKENKEEPER_API_KEY_RATE: bad }), bad).toThrow(
        expect.objectContaining({ code: "config", message: "Invalid configuration: TOKENKEEPER_API_KEY_RATE must be a whole number from 1 to 10000, in plain decimal digits." }),
      );
    }
  });
});

describe("cross-site requests", () => {
  const app = { host: "app.example" };
  it.each<[string, Record<string, string>, string | undefined, boolean]>([
    ["a fetch from the app's own page", { ...app, "sec-fetch-site": "same-origin", origin: "https://app.example" }, undefined, false],
    ["a form on another site", { ...app, "sec-fetch-site": "cross-site", origin: "https://evil.example" }, undefined, true],
    ["a sibling subdomain", { ...app, "sec-fetch-site": "same-site", origin: "https://blog.app.example" }, undefined, true],
    ["an old browser from another site (Origin only)", { ...app, origin: "https://evil.example" }, undefined, true],
    ["an old browser on the app (Origin only)", { ...app, origin: "https://app.example" }, undefined, false],
    ["an opaque origin (sandboxed frame)", { ...app, origin: "null" }, undefined, true],
    ["no browser at all (curl with the cookie)", { ...app }, undefined, false],
    ["behind a proxy that forwards the host", { host: "internal:3000", "x-forwarded-host": "app.example", origin: "https://app.example" }, undefined, false],
    ["behind a proxy that rewrites Host, with AUTH_URL", { host: "127.0.0.1:3001", origin: "http://localhost:3000" }, "http://localhost:3000", false],
    ["Fetch Metadata says same-origin but Origin is elsewhere", { ...app, "sec-fetch-site": "same-origin", origin: "https://evil.example" }, undefined, true],
  ])("%s", (_label, headers, authUrl, crossSite) => {
    expect(isCrossSite(new Headers(headers), authUrl)).toBe(crossSite);
  });
});

describe("webhook settings", () => {
  const secret = (bytes: number) => `whsec_${Buffer.alloc(bytes, 7).toString("base64")}`;
  it("accepts https anywhere and plain http on loopback only", () => {
    expect(webhookConfig({ TOKENKEEPER_WEBHOOK_URL: "https://hooks.example/in", TOKENKEEPER_WEBHOOK_SECRET: secret(24) })).toMatchObject({ url: "https://hooks.example/in" });
    for (const url of ["http://localhost:9/x", "http://127.0.0.1:9/x", "http://[::1]:9/x"])
      expect(webhookConfig({ TOKENKEEPER_WEBHOOK_URL: url, TOKENKEEPER_WEBHOOK_SECRET: secret(32) })).toMatchObject({ url });
    expect(() => webhookConfig({ TOKENKEEPER_WEBHOOK_URL: "http://hooks.example/in", TOKENKEEPER_WEBHOOK_SECRET: secret(32) })).toThrow(
      "TOKENKEEPER_WEBHOOK_URL must be an https:// URL (plain http only for localhost, 127.0.0.1 or [::1])",
    );
  });

  it("refuses a secret shorter than 24 bytes", () => {
    expect(() => webhookConfig({ TOKENKEEPER_WEBHOOK_URL: "https://hooks.example/in", TOKENKEEPER_WEBHOOK_SECRET: secret(16) })).toThrow(
      /TOKENKEEPER_WEBHOOK_SECRET must hold at least 24 random bytes/,
    );
    expect(() => webhookConfig({ TOKENKEEPER_WEBHOOK_URL: "https://hooks.example/in", TOKENKEEPER_WEBHOOK_SECRET: secret(23) })).toThrow(/at least 24/);
  });
});

describe("which providers vouch for an email", () => {
  const providers = configuredProviders({
    AUTH_GOOGLE_ID: "g",
    AUTH_GOOGLE_SECRET: "s",
    AUTH_DISCORD_ID: "d",
    AUTH_DISCORD_SECRET: "s",
    AUTH_OIDC_ISSUER: "https://issuer.example",
    AUTH_OIDC_ID: "o",
    AUTH_OIDC_SECRET: "s",
  });
  const emailFrom = async (id: string, profile: Record<string, unknown>) => {
    const provider = providers.find((candidate) => candidate.id === id)!.authjs as OAuthConfig<Record<string, unknown>>;
    return (await provider.profile!(profile, {} as never)).email ?? null;
  };
  it.each<[string, Record<string, unknown>, string | null]>([
    ["google", { sub: "1", email: "a@x.example", email_verified: true }, "a@x.example"],
    ["google", { sub: "1", email: "a@x.example", email_verified: false }, null],
    ["google", { sub: "1", email: "a@x.example" }, null],
    ["discord", { id: "1", username: "a", avatar: null, discriminator: "0", email: "a@x.example", verified: true }, "a@x.example"],
    ["discord", { id: "1", username: "a", avatar: null, discriminator: "0", email: "a@x.example", verified: false }, null],
    ["oidc", { sub: "1", email: "a@x.example", email_verified: true }, "a@x.example"],
    ["oidc", { sub: "1", email: "a@x.example", email_verified: "true" }, null],
    ["oidc", { sub: "1", email: "a@x.example" }, null],
  ])("%s with %j keeps %s", async (id, profile, email) => {
    expect(await emailFrom(id, profile)).toBe(email);
  });
});

describe(".vercelignore", () => {
  it("keeps the dev stack's database, grants and secrets (and their set-aside copies) out of a deployment", () => {
    const lines = readFileSync(join(import.meta.dirname, "../../.vercelignore"), "utf8")
      .split("\n")
      .map((line) => line.trim());
    expect(lines).toEqual(expect.arrayContaining([".tokenkeeper/", "*.procedures-test-aside", ".env*.local"]));
  });
});
