import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, type ApiKeyScope } from "@/lib/api-keys";
import { revokeApiKey } from "@/lib/db/api-keys";
import { operatorPanel } from "@/lib/operator";
import { signInThroughApp } from "../../testkit/browserless";
import { serveApp, type AppServer } from "../../testkit/app-server";
import { epochNow } from "../../testkit/grants";
import { startTestStack, type TestStack } from "../../testkit/stack";

// A service client over real HTTP against /api/v1 (#20): keys and their scopes, the
// token route's minTtl under a storm, audit rows, the proxy, reconnect links, the
// OpenAPI document and the README's Python example.
let stack: TestStack;
let app: AppServer;
let accountId: string;
let userId: string;
const keys: Partial<Record<ApiKeyScope | "all", string>> = {};
const SCOPES: ApiKeyScope[] = ["accounts:read", "tokens:read", "proxy", "reconnect"];

beforeAll(async () => {
  app = await serveApp();
  stack = await startTestStack("pglite", {}, app.port);
  await signInThroughApp(app.origin, "svc-user");
  const row = await stack.db.account.findFirstOrThrow({ where: { providerAccountId: "svc-user" } });
  ({ id: accountId, userId } = row);
  for (const scope of SCOPES) keys[scope] = (await createApiKey(stack.db, { name: `only-${scope}`, scopes: [scope] })).key;
  keys.all = (await createApiKey(stack.db, { name: "worker", scopes: SCOPES })).key;
});
afterAll(async () => {
  await app?.close();
  await stack?.stop();
});

function call(path: string, key: string | undefined, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (key) headers.set("authorization", `Bearer ${key}`);
  return fetch(`${app.origin}${path}`, { ...init, headers });
}

const ROUTES: { scope: ApiKeyScope; method: string; path: () => string; ok: (response: Response) => Promise<void> }[] = [
  {
    scope: "accounts:read",
    method: "GET",
    path: () => `/api/v1/users/${userId}/accounts`,
    ok: async (response) => {
      const body = (await response.json()) as { id: string; identity: string }[];
      expect(body).toMatchObject([{ id: accountId, identity: "svc-user@dev.tokenkeeper.test", provider: "oidc", status: "active" }]);
      // "as GET /api/accounts lists them": reauthBy included (null: no absolute end known).
      expect(body[0]).toHaveProperty("reauthBy", null);
      expect(JSON.stringify(body)).not.toMatch(/accessToken|refresh_token|access_token/);
    },
  },
  {
    scope: "tokens:read",
    method: "GET",
    path: () => `/api/v1/accounts/${accountId}/token`,
    ok: async (response) => {
      const { accessToken } = (await response.json()) as { accessToken: string };
      const me = await fetch(`${stack.env.AUTH_OIDC_ISSUER}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      expect(await me.json()).toMatchObject({ sub: "svc-user" });
    },
  },
  {
    scope: "proxy",
    method: "GET",
    path: () => `/api/v1/accounts/${accountId}/proxy/me`,
    ok: async (response) => expect(await response.json()).toMatchObject({ sub: "svc-user" }),
  },
  {
    scope: "reconnect",
    method: "POST",
    path: () => `/api/v1/accounts/${accountId}/reconnect`,
    ok: async (response) => {
      const body = (await response.json()) as { url: string; expiresAt: string };
      expect(body.url.startsWith(`${app.origin}/api/v1/consent?link=`)).toBe(true);
      expect(Date.parse(body.expiresAt) - Date.now()).toBeGreaterThan(10 * 60_000);
    },
  },
];

describe("API keys", () => {
  it.each(ROUTES.map((route) => [route.scope, route] as const))("allows %s to a key with that scope, and refuses every other key with 403 and no provider call", async (_scope, route) => {
    const allowed = await call(route.path(), keys[route.scope], { method: route.method });
    expect(allowed.status).toBe(200);
    await route.ok(allowed);
    for (const other of SCOPES.filter((scope) => scope !== route.scope)) {
      const before = { ...stack.oidc!.stats };
      const refused = await call(route.path(), keys[other], { method: route.method });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: "insufficient_scope", scope: route.scope });
      expect(stack.oidc!.stats).toStrictEqual(before);
    }
  });

  it.each([
    ["no key", undefined, "unauthorized"],
    ["something else", "ghp_notours", "invalid_token"],
    ["an unknown key in our format", `tk_live_${"0".repeat(20)}_${"A".repeat(43)}`, "invalid_token"],
  ])("answers 401 for %s, before anything else", async (_label, key, error) => {
    const response = await call(`/api/v1/accounts/${accountId}/token`, key);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error, message: expect.any(String) });
  });

  it("refuses a revoked key, and a key whose secret part was changed", async () => {
    const { key, id } = await createApiKey(stack.db, { name: "short-lived", scopes: ["tokens:read"] });
    expect((await call(`/api/v1/accounts/${accountId}/token`, key)).status).toBe(200);
    const tampered = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
    expect(await (await call(`/api/v1/accounts/${accountId}/token`, tampered)).json()).toMatchObject({ error: "invalid_token", message: "Unknown API key." });
    expect(await revokeApiKey(stack.db, id)).toStrictEqual({ revoked: 1, sameName: [] });
    const refused = await call(`/api/v1/accounts/${accountId}/token`, key);
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: "invalid_token", message: "This API key was revoked." });
  });

  it("revokes by name only the one live key of that name; two of one name are named back by id, and both keep working", async () => {
    const first = await createApiKey(stack.db, { name: "rotating", scopes: ["tokens:read"] });
    const second = await createApiKey(stack.db, { name: "rotating", scopes: ["tokens:read"] });
    expect(await revokeApiKey(stack.db, "rotating")).toStrictEqual({ revoked: 0, sameName: [first.id, second.id].sort() });
    for (const { key } of [first, second]) expect((await call(`/api/v1/accounts/${accountId}/token`, key)).status).toBe(200);
    expect(await revokeApiKey(stack.db, first.id)).toStrictEqual({ revoked: 1, sameName: [] });
    expect(await revokeApiKey(stack.db, "rotating")).toStrictEqual({ revoked: 1, sameName: [] });
    expect((await call(`/api/v1/accounts/${accountId}/token`, second.key)).status).toBe(401);
  });

  it("revokes by id before by name: a key named like another key's id is left alone", async () => {
    const target = await createApiKey(stack.db, { name: "target", scopes: ["tokens:read"] });
    const lookalike = await createApiKey(stack.db, { name: target.id, scopes: ["tokens:read"] });
    expect(await revokeApiKey(stack.db, target.id)).toStrictEqual({ revoked: 1, sameName: [] });
    expect((await call(`/api/v1/accounts/${accountId}/token`, lookalike.key)).status).toBe(200);
  });

  it("stores only the key's hash", async () => {
    const { key, id } = await createApiKey(stack.db, { name: "hashed", scopes: ["proxy"] });
    const row = await stack.db.apiKey.findUniqueOrThrow({ where: { id } });
    expect(JSON.stringify(row)).not.toContain(key.slice(`tk_live_${id}_`.length));
    expect(row.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("limits each key to its own rate (429 with Retry-After), leaving other keys alone", async () => {
    const { key } = await createApiKey(stack.db, { name: "slow", scopes: ["accounts:read"], rate: 1 });
    // Six at once against a burst of 2 and 1 a second. How many pass depends on how long
    // they take to reach the limiter (one after another, a loaded machine let the fourth
    // through): at least the burst, at most the burst plus one a second since.
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 6 }, () => call(`/api/v1/users/${userId}/accounts`, key)));
    const seconds = (Date.now() - started) / 1000;
    const statuses = answers.map((response) => response.status);
    expect(statuses.filter((status) => status === 200).length).toBeGreaterThanOrEqual(2);
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(2 + Math.floor(seconds));
    expect(statuses.filter((status) => status !== 200).every((status) => status === 429)).toBe(true);
    const limited = answers.find((response) => response.status === 429)!;
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited.json()).toMatchObject({ error: "rate_limited" });
    expect((await call(`/api/v1/users/${userId}/accounts`, keys["accounts:read"])).status).toBe(200);
  });
});

describe("the accounts route", () => {
  it("answers 404 not_found for a user that does not exist, and [] for one with no accounts", async () => {
    const unknown = await call("/api/v1/users/no-such-user/accounts", keys.all);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toStrictEqual({ error: "not_found", message: "no such user" });
    const lonely = await stack.db.user.create({ data: {} });
    const none = await call(`/api/v1/users/${lonely.id}/accounts`, keys.all);
    expect(none.status).toBe(200);
    expect(await none.json()).toStrictEqual([]);
  });
});

describe("the proxy route", () => {
  it("spends the account owner's proxy rate too: a key with a high rate of its own gets 429 past the user's burst", async () => {
    await signInThroughApp(app.origin, "svc-rate");
    const rated = await stack.db.account.findFirstOrThrow({ where: { providerAccountId: "svc-rate" } });
    const { key } = await createApiKey(stack.db, { name: "fast", scopes: ["proxy"], rate: 1000 });
    // TOKENKEEPER_PROXY_RATE's default: 10 a second, bursts of 20; the key alone would allow 2000.
    const answers = await Promise.all(Array.from({ length: 40 }, () => call(`/api/v1/accounts/${rated.id}/proxy/me`, key)));
    expect(answers.filter((response) => response.status === 200).length).toBeGreaterThanOrEqual(20);
    const limited = answers.find((response) => response.status === 429);
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited!.json()).toMatchObject({ error: "rate_limited", message: expect.stringContaining("per user") });
    // The key's own bucket is far from spent: another user's account still answers.
    expect((await call(`/api/v1/accounts/${accountId}/proxy/me`, key)).status).toBe(200);
  });
});

describe("paths no route serves", () => {
  it.each([
    ["GET", "/api/v1/nope"],
    ["POST", "/api/v1/accounts/x/tokens"],
    ["DELETE", "/api/nope/deeper"],
  ])("answer %s %s with 404 JSON {error, message}, not Next's HTML page", async (method, path) => {
    const { GET, POST, DELETE } = await import("@/app/api/[...path]/route");
    const handler = { GET, POST, DELETE }[method]!;
    const response = handler(new Request(`${app.origin}${path}`, { method }));
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(await response.json()).toStrictEqual({ error: "not_found", message: `no route answers ${method} ${path}` });
  });
});

describe("the token route", () => {
  it("answers 400 for a malformed minTtl or an unknown parameter, 404 for an unknown account", async () => {
    for (const query of ["minTtl=-1", "minTtl=abc", "minTtl=90000", "other=1", "purpose=nightly%00sync", "purpose=a%0Ab"]) {
      const response = await call(`/api/v1/accounts/${accountId}/token?${query}`, keys.all);
      expect(response.status, query).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_request", message: expect.stringMatching(/minTtl|other|purpose/) });
    }
    expect((await call(`/api/v1/accounts/nope/token`, keys.all)).status).toBe(404);
    // An id no account can have is refused before any statement: NUL, which Postgres refuses in text, was a 500.
    for (const path of ["/api/v1/accounts/a%00b/token", "/api/v1/accounts/a%00b/proxy/me"]) {
      const response = await call(path, keys.all);
      expect(response.status, path).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_request", message: expect.stringContaining("path parameter accountId") });
    }
  });

  it("answers 400 for any query parameter on a route that takes none, as the token route does for an unknown one", async () => {
    for (const [method, path] of [
      ["GET", `/api/v1/users/${userId}/accounts?limit=5`],
      ["POST", `/api/v1/accounts/${accountId}/reconnect?scopes=all`],
    ] as const) {
      const response = await call(path, keys.all, { method });
      expect(response.status, path).toBe(400);
      expect(await response.json()).toMatchObject({ error: "invalid_request", message: expect.stringMatching(/^unknown query parameter: (limit|scopes)$/) });
    }
  });

  it("takes minTtl only as plain decimal digits within 0 to 86400: an empty, hexadecimal, exponent or padded value is a 400 naming it, and costs no audit row", async () => {
    const audits = await stack.db.tokenAudit.count();
    // Number() would read these as 0, 16, 100, 5, 5 and 10.
    for (const value of ["", "0x10", "1e2", "%205", "%2B5", "10.0"]) {
      const response = await call(`/api/v1/accounts/${accountId}/token?minTtl=${value}`, keys.all);
      expect(response.status, value).toBe(400);
      expect(await response.json(), value).toStrictEqual({ error: "invalid_request", message: "query parameter minTtl: must be a whole number from 0 to 86400, in plain decimal digits" });
    }
    expect(await stack.db.tokenAudit.count()).toBe(audits);
    for (const value of ["0", "16", "86400"]) expect((await call(`/api/v1/accounts/${accountId}/token?minTtl=${value}`, keys.all)).status, value).toBe(200);
  });

  it("refreshes exactly once for a storm of 30 callers whose minTtl the stored token does not meet, and audits each", async () => {
    // Valid for 2 more minutes: past the 60 s refresh margin, short of minTtl=300.
    await stack.db.account.update({ where: { id: accountId }, data: { expires_at: epochNow() + 120, refreshedAt: new Date(Date.now() - 3_000_000) } });
    await stack.db.tokenAudit.deleteMany();
    const before = stack.oidc!.stats.refreshRequests;
    const answers = await Promise.all(
      Array.from({ length: 30 }, () =>
        call(`/api/v1/accounts/${accountId}/token?minTtl=300&purpose=storm`, keys.all).then(
          (response) => response.json() as Promise<{ accessToken: string; expiresAt: string; scopes: string[]; tokenType: string }>,
        ),
      ),
    );
    expect(stack.oidc!.stats.refreshRequests - before).toBe(1);
    expect(new Set(answers.map((answer) => answer.accessToken)).size).toBe(1);
    expect(Date.parse(answers[0]!.expiresAt) - Date.now()).toBeGreaterThan(300_000);
    expect(answers[0]!.scopes).toStrictEqual(expect.arrayContaining(["openid", "offline_access"]));
    expect(answers[0]!.tokenType.toLowerCase()).toBe("bearer");
    const audits = await stack.db.tokenAudit.findMany();
    expect(audits).toHaveLength(30);
    expect(audits.every((audit) => audit.accountId === accountId && audit.purpose === "storm" && audit.minTtl === 300)).toBe(true);
    expect(audits.some((audit) => audit.refreshed)).toBe(true);
    // Operators see the newest on the dashboard: which key, which account, why.
    expect((await operatorPanel()).tokenAudits[0]).toMatchObject({ keyName: "worker", accountId, provider: "oidc", purpose: "storm", minTtl: 300 });
    // Now fresh enough: no refresh, audited as such.
    const again = await call(`/api/v1/accounts/${accountId}/token?minTtl=300`, keys.all);
    expect(again.status).toBe(200);
    expect(stack.oidc!.stats.refreshRequests - before).toBe(1);
    expect(await stack.db.tokenAudit.findFirstOrThrow({ orderBy: { createdAt: "desc" } })).toMatchObject({ refreshed: false, purpose: null, minTtl: 300 });
  });

  it("answers 409 reauth_required with the reason, without calling the provider or writing an audit row", async () => {
    await stack.db.account.update({ where: { id: accountId }, data: { status: "reauth_required", lastError: "invalid_grant: grant revoked" } });
    const audits = await stack.db.tokenAudit.count();
    const before = stack.oidc!.stats.refreshRequests;
    const response = await call(`/api/v1/accounts/${accountId}/token`, keys.all);
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ error: "reauth_required", message: expect.stringContaining("invalid_grant: grant revoked") });
    expect(stack.oidc!.stats.refreshRequests).toBe(before);
    expect(await stack.db.tokenAudit.count()).toBe(audits);
    await stack.db.account.update({ where: { id: accountId }, data: { status: "active", lastError: null } });
  });
});

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1, generated from the routes' own zod schemas", async () => {
    const response = await fetch(`${app.origin}/api/v1/openapi.json`);
    const doc = (await response.json()) as {
      openapi: string;
      info: { description: string };
      paths: Record<string, Record<string, { parameters: { name: string; schema: Record<string, unknown> }[]; security: unknown; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { required?: string[] }> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).sort()).toStrictEqual([
      "/api/v1/accounts/{accountId}/proxy/{path}",
      "/api/v1/accounts/{accountId}/reconnect",
      "/api/v1/accounts/{accountId}/token",
      "/api/v1/users/{userId}/accounts",
    ]);
    const token = doc.paths["/api/v1/accounts/{accountId}/token"]!.get!;
    expect(token.security).toStrictEqual([{ apiKey: ["tokens:read"] }]);
    // The same bounds the route enforces (the 400s above).
    expect(token.parameters.find((parameter) => parameter.name === "minTtl")!.schema).toMatchObject({ type: "integer", minimum: 0, maximum: 86400, default: 0 });
    expect(doc.components.schemas.AccessToken!.required).toStrictEqual(["accessToken", "tokenType", "expiresAt", "scopes"]);
    expect(doc.components.schemas.Account!.required).toContain("providerAccountId");
    // 404s as the routes answer them: an unknown user or account, and any other path.
    expect(doc.paths["/api/v1/users/{userId}/accounts"]!.get!.responses["404"]).toMatchObject({
      description: expect.stringContaining("no such user"),
      content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
    });
    expect(doc.info.description).toContain("Any other path under /api answers 404");
  });
});

describe("the README's Python example", () => {
  it("runs as written with python3 and prints a token's expiry", async () => {
    const readme = readFileSync(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
    const script = /<!-- example: python-token -->\n```python\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(script).toBeDefined();
    // It says where the account id comes from: the label the dashboard's card shows it under.
    expect(script).toContain(`"Account id" on the account's dashboard card`);
    // Asynchronously: the app answering it runs in this process.
    const result = await promisify(execFile)("python3", ["-c", script!], {
      env: { PATH: process.env.PATH, NODE_ENV: "test", TOKENKEEPER_URL: app.origin, TOKENKEEPER_API_KEY: keys["tokens:read"]!, ACCOUNT_ID: accountId },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.stderr).toBe("");
    const printed = await stack.db.tokenAudit.findFirstOrThrow({ orderBy: { createdAt: "desc" } });
    expect(printed).toMatchObject({ accountId, purpose: "nightly-sync" });
    expect(result.stdout).toMatch(new RegExp(`^token for ${accountId} valid until \\d{4}-\\d\\d-\\d\\dT`, "m"));
  });
});
