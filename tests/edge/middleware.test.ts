import { Miniflare } from "miniflare";
import { encode } from "next-auth/jwt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleMiddleware, type EdgeBundle } from "./bundle";

// The middleware, bundled as an edge bundle and run in workerd (miniflare) without
// nodejs_compat: any Node API, Prisma or pg in it would fail to load.
const SECRET = "edge-suite-secret-0123456789abcdef";
const FOREIGN = "some-other-apps-secret-0123456789ab";
const VARIANTS = {
  lean: new URL("../../middleware.ts", import.meta.url).pathname,
  authjs: new URL("./entries/authjs-middleware.ts", import.meta.url).pathname,
};

const workers: Record<string, { mf: Miniflare; bundle: EdgeBundle }> = {};
beforeAll(async () => {
  for (const [name, file] of Object.entries(VARIANTS)) {
    const bundle = await bundleMiddleware(file, { AUTH_SECRET: SECRET });
    workers[name] = { bundle, mf: new Miniflare({ modules: true, script: bundle.code, compatibilityDate: "2025-01-01" }) };
  }
});
afterAll(async () => {
  for (const worker of Object.values(workers)) await worker.mf.dispose();
});

const cookieName = (https: boolean) => (https ? "__Secure-authjs.session-token" : "authjs.session-token");
const mint = (https: boolean, { secret = SECRET, maxAge = 3600 } = {}) =>
  encode({ token: { sub: "user-1", name: "Edge" }, secret, salt: cookieName(https), maxAge });

type Verdict = "pass" | "signin" | "401";
async function verdict(variant: string, url: string, cookie?: string): Promise<{ verdict: Verdict; location: string | null }> {
  const https = url.startsWith("https:");
  // As Vercel's edge network does; Auth.js's wrapper reads the scheme from it.
  const headers: Record<string, string> = { "x-forwarded-proto": https ? "https" : "http" };
  if (cookie) headers.cookie = `${cookieName(https)}=${cookie}`;
  const response = await workers[variant]!.mf.dispatchFetch(url, { headers, redirect: "manual" });
  const location = response.headers.get("location");
  if (response.headers.get("x-middleware-next") === "1") return { verdict: "pass", location };
  if (response.status === 401) {
    expect(await response.json()).toMatchObject({ error: "unauthorized" });
    return { verdict: "401", location };
  }
  if (response.status === 307 || response.status === 302) {
    expect(new URL(location!, url).pathname).toBe("/signin");
    return { verdict: "signin", location };
  }
  throw new Error(`unexpected answer ${response.status}`);
}

const tamper = (jwe: string) => {
  const parts = jwe.split(".");
  parts[3] = (parts[3]![0] === "A" ? "B" : "A") + parts[3]!.slice(1);
  return parts.join(".");
};

const CASES: [string, (https: boolean) => Promise<string | undefined>, boolean][] = [
  ["a valid cookie", (https) => mint(https), true],
  ["no cookie", async () => undefined, false],
  ["a tampered cookie", async (https) => tamper(await mint(https)), false],
  ["an expired cookie", (https) => mint(https, { maxAge: -60 }), false],
  ["a cookie made with another secret", (https) => mint(https, { secret: FOREIGN }), false],
  ["garbage", async () => "not-a-jwe", false],
];

describe.each(Object.keys(VARIANTS))("%s middleware in workerd", (variant) => {
  describe.each([["http", "http://localhost:3000"], ["https", "https://app.example"]])("over %s", (_scheme, origin) => {
    const https = origin.startsWith("https:");
    it.each(CASES)("with %s", async (_label, cookie, signedIn) => {
      const value = await cookie(https);
      const page = await verdict(variant, `${origin}/dashboard?tab=1`, value);
      const api = await verdict(variant, `${origin}/api/accounts/oidc/refresh`, value);
      expect(page.verdict).toBe(signedIn ? "pass" : "signin");
      expect(api.verdict).toBe(signedIn ? "pass" : "401");
      if (!signedIn) expect(new URL(page.location!, origin).searchParams.get("callbackUrl")).toMatch(/\/dashboard\?tab=1$/);
    });
  });

  it("pulls in no Node API, Prisma, pg or token-encryption code", () => {
    const { bundle } = workers[variant]!;
    expect(bundle.inputs.filter((input) => /node:|prisma|\/pg\/|lib\/db|lib\/tokens/.test(input))).toStrictEqual([]);
    expect(bundle.code).not.toContain("TOKEN_ENCRYPTION_KEYS");
  });
});

describe("the lean check", () => {
  it("decides exactly as Auth.js's wrapper on every cookie, and is smaller", async () => {
    for (const origin of ["http://localhost:3000", "https://app.example"]) {
      for (const [, cookie] of CASES) {
        const value = await cookie(origin.startsWith("https:"));
        for (const path of ["/dashboard", "/api/accounts"]) {
          const [lean, authjs] = await Promise.all([verdict("lean", origin + path, value), verdict("authjs", origin + path, value)]);
          expect(lean.verdict).toBe(authjs.verdict);
        }
      }
    }
    console.log(`edge bundle (esbuild, minified): lean ${(workers.lean!.bundle.gzipBytes / 1024).toFixed(1)} KB gzip, NextAuth(authConfig).auth ${(workers.authjs!.bundle.gzipBytes / 1024).toFixed(1)} KB gzip`);
    expect(workers.lean!.bundle.gzipBytes).toBeLessThan(workers.authjs!.bundle.gzipBytes);
  });
});
