import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { errorResponse } from "@/lib/errors";
import { takeProxyCall } from "@/lib/rate-limit";
import { issueTokens } from "../../testkit/grants";
import { scratchDir } from "../../testkit/scratch";
import { startTestStack, type TestStack } from "../../testkit/stack";

// #16: the account routes' own handlers, called as Next calls them — refusing
// cross-site changes before anything else, 405 as {error, message} — plus the
// proxy rate, and the dev stack's files and start-up checks.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack("pglite");
});
afterAll(() => stack?.stop());

const params = (value: Record<string, unknown>) => ({ params: Promise.resolve(value) });
const routes = {
  accounts: () => import("@/app/api/accounts/route"),
  account: () => import("@/app/api/accounts/[account]/route"),
  refresh: () => import("@/app/api/accounts/[account]/refresh/route"),
  scopes: () => import("@/app/api/accounts/[account]/scopes/route"),
  userinfo: () => import("@/app/api/accounts/[account]/userinfo/route"),
  proxy: () => import("@/app/api/accounts/[account]/proxy/[...path]/route"),
  auth: () => import("@/app/api/auth/[...nextauth]/route"),
  cron: () => import("@/app/api/cron/refresh-tokens/route"),
  cronWorker: () => import("@/app/api/cron/refresh-tokens/worker/route"),
  webhooks: () => import("@/app/api/cron/webhooks/route"),
  reconnect: () => import("@/app/api/accounts/[account]/reconnect/route"),
  v1Accounts: () => import("@/app/api/v1/users/[userId]/accounts/route"),
  v1Token: () => import("@/app/api/v1/accounts/[accountId]/token/route"),
  v1Reconnect: () => import("@/app/api/v1/accounts/[accountId]/reconnect/route"),
  v1OpenApi: () => import("@/app/api/v1/openapi.json/route"),
  v1Consent: () => import("@/app/api/v1/consent/route"),
  v1ConsentRefused: () => import("@/app/api/v1/consent/refused/route"),
};

describe("cross-site requests (#16)", () => {
  const evil = { host: "localhost:3999", origin: "https://evil.example", "sec-fetch-site": "cross-site", cookie: "authjs.session-token=whatever" };
  it.each([
    ["POST", "refresh", "http://localhost:3999/api/accounts/oidc/refresh"],
    ["DELETE", "account", "http://localhost:3999/api/accounts/oidc"],
    ["POST", "scopes", "http://localhost:3999/api/accounts/oidc/scopes"],
    ["POST", "reconnect", "http://localhost:3999/api/accounts/oidc/reconnect"],
    ["POST", "proxy", "http://localhost:3999/api/accounts/oidc/proxy/items"],
    ["PUT", "proxy", "http://localhost:3999/api/accounts/oidc/proxy/items"],
    ["PATCH", "proxy", "http://localhost:3999/api/accounts/oidc/proxy/items"],
    ["DELETE", "proxy", "http://localhost:3999/api/accounts/oidc/proxy/items"],
  ] as const)("answers 403 to a cross-site %s to the %s route", async (method, route, url) => {
    const module = (await routes[route]()) as unknown as Record<string, (request: Request, context: unknown) => Promise<Response>>;
    for (const headers of [evil, { host: "localhost:3999", origin: "https://evil.example" }]) {
      const response = await module[method]!(new Request(url, { method, headers, body: method === "DELETE" ? null : "{}" }), params({ account: "oidc", path: ["items"] }));
      expect(response.status).toBe(403);
      expect(await response.json()).toStrictEqual({ error: "forbidden", message: "cross-site requests may not change anything here" });
    }
  });
});

describe("405 (#16)", () => {
  it.each([
    ["accounts", "POST", "GET"],
    ["account", "GET", "DELETE"],
    ["refresh", "GET", "POST"],
    ["scopes", "PUT", "POST"],
    ["userinfo", "DELETE", "GET"],
    ["auth", "PUT", "GET, POST"],
    ["cron", "POST", "GET"],
    ["cronWorker", "DELETE", "GET"],
    ["webhooks", "PATCH", "GET"],
    ["reconnect", "GET", "POST"],
    ["v1Accounts", "POST", "GET"],
    ["v1Token", "DELETE", "GET"],
    ["v1Reconnect", "GET", "POST"],
    ["v1OpenApi", "POST", "GET"],
    ["v1Consent", "POST", "GET"],
    ["v1ConsentRefused", "PUT", "GET"],
  ] as const)("the %s route answers %s with {error, message} and Allow: %s", async (route, method, allow) => {
    const module = (await routes[route]()) as unknown as Record<string, (request: Request) => Response>;
    const response = module[method]!(new Request("http://localhost:3999/x", { method }));
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe(allow);
    expect(await response.json()).toStrictEqual({ error: "method_not_allowed", message: `${method} is not served here; use ${allow}` });
  });
});

describe("Auth.js's own error answers", () => {
  const authjs = async (method: "GET" | "POST", path: string, init: { headers?: Record<string, string>; body?: string } = {}) => {
    const { NextRequest } = await import("next/server");
    const module = await routes.auth();
    return module[method](new NextRequest(`http://localhost:3999${path}`, { method, ...init }));
  };

  it.each([
    ["GET", "/api/auth/whatever", "Auth.js serves no GET /api/auth/whatever"],
    ["POST", "/api/auth/whatever", "Auth.js serves no POST /api/auth/whatever"],
    ["POST", "/api/auth/session", "the CSRF token is missing or does not match"],
  ] as const)("%s %s is 400 {error: invalid_request, message}, not Auth.js's bare JSON", async (method, path, message) => {
    const response = await authjs(method, path, { headers: { "content-type": "application/json" }, body: method === "POST" ? "{}" : undefined });
    expect(response.status).toBe(400);
    expect(await response.json()).toStrictEqual({ error: "invalid_request", message });
  });

  it("names a body Auth.js could not parse as such, not as a route it does not serve, and logs it at warn", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const response = await authjs("POST", "/api/auth/session", { headers: { "content-type": "application/json" }, body: "{not json" });
      expect(response.status).toBe(400);
      const { error, message } = await response.json();
      expect(error).toBe("invalid_request");
      expect(message).not.toMatch(/serves no/);
      expect(message).toMatch(/body/);
      // A visitor's malformed body is the visitor's doing: no visitor can fill the error log.
      expect(errors.mock.calls.flat().join("\n")).not.toContain("authjs.error");
    } finally {
      errors.mockRestore();
      warnings.mockRestore();
    }
  });

  it.each([
    ["GET", "/api/auth/callback/nonexistent?code=x&state=y"],
    ["POST", "/api/auth/signin/nonexistent"],
  ] as const)("%s %s, a provider this app does not have, is 404 not_found and logs no error", async (method, path) => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const response = await authjs(method, path, method === "POST" ? { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "csrfToken=x" } : {});
      expect(response.status).toBe(404);
      expect(await response.json()).toStrictEqual({ error: "not_found", message: "no provider nonexistent here" });
      expect(errors.mock.calls.flat().join("\n")).not.toContain("authjs.error");
    } finally {
      errors.mockRestore();
      warnings.mockRestore();
    }
  });

  it("answers HEAD (which Next hands to GET) 405 with Allow, without running the GET: a callback's GET redeems its code", async () => {
    const { NextRequest } = await import("next/server");
    const response = await (await routes.auth()).GET(new NextRequest("http://localhost:3999/api/auth/session", { method: "HEAD" }));
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, POST");
  });

  it("passes every other answer unchanged", async () => {
    const csrf = await authjs("GET", "/api/auth/csrf");
    expect(csrf.status).toBe(200);
    expect(Object.keys(await csrf.json())).toStrictEqual(["csrfToken"]);
    expect(await (await authjs("GET", "/api/auth/session")).json()).toBeNull();
  });
});

describe("the per-user proxy rate (#16)", () => {
  it("allows a burst of 20 and then 10 a second, answering 429 rate_limited with Retry-After", () => {
    const now = 1_000_000;
    for (let i = 0; i < 20; i++) takeProxyCall("rate-user", now);
    const error = (() => {
      try {
        takeProxyCall("rate-user", now);
      } catch (caught) {
        return caught;
      }
    })();
    const response = errorResponse(error);
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("1");
    // Another user has a bucket of their own; 100 ms later this one has one call again.
    takeProxyCall("another-user", now);
    takeProxyCall("rate-user", now + 100);
    expect(() => takeProxyCall("rate-user", now + 100)).toThrow(expect.objectContaining({ code: "rate_limited" }));
  });
});

describe("the dev stack's files (#16)", () => {
  it("keeps secrets and the provider's grants readable by this user alone", async () => {
    await issueTokens(stack, "mode-check");
    await new Promise((resolve) => setTimeout(resolve, 300)); // the store's coalesced write
    for (const file of ["secrets.json", "oidc-store.json"]) expect((statSync(join(stack.home, file)).mode & 0o777).toString(8), file).toBe("600");
  });

  it("refuses to start with a plain-http webhook URL, a short webhook secret or an unknown sign-out mode, naming the variable", () => {
    const cases = [
      // Otherwise every sign-out logged signout.clear_failed and kept the tokens the dashboard said it would clear.
      [{ TOKENKEEPER_SIGN_OUT: "maybe" }, 'TOKENKEEPER_SIGN_OUT must be "clear" or "keep", not "maybe".'],
      [{ TOKENKEEPER_WEBHOOK_URL: "http://hooks.example/in", TOKENKEEPER_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 1).toString("base64")}` }, "TOKENKEEPER_WEBHOOK_URL must be an https:// URL"],
      [
        { TOKENKEEPER_WEBHOOK_URL: "https://hooks.example/in", TOKENKEEPER_WEBHOOK_SECRET: `whsec_${Buffer.alloc(16, 1).toString("base64")}` },
        "TOKENKEEPER_WEBHOOK_SECRET must hold at least 24 random bytes",
      ],
    ] as const;
    for (const [webhook, message] of cases) {
      const home = scratchDir("tokenkeeper-webhook-");
      const env: Record<string, string> = {};
      for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !/^(AUTH_|TOKEN_|CRON_|DATABASE_URL|NEON_|TOKENKEEPER_|DEV_OIDC_)/.test(key)) env[key] = value;
      Object.assign(env, webhook, { TOKENKEEPER_HOME: home, DEV_OIDC_PORT: "0", PORT: "3998" });
      const childEnv = env as NodeJS.ProcessEnv;
      const started = spawnSync(process.execPath, [join(import.meta.dirname, "../../node_modules/tsx/dist/cli.mjs"), "--conditions=react-server", "dev/start.ts", "start"], {
        cwd: join(import.meta.dirname, "../.."),
        env: childEnv,
        encoding: "utf8",
        timeout: 90_000,
      });
      expect(started.status, started.stdout).toBe(1);
      expect(started.stderr).toContain(message);
      expect(started.stdout).not.toContain("building the app");
    }
  });
});
