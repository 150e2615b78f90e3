import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { errorResponse } from "@/lib/errors";
import { providerSpecs } from "@/lib/providers";
import { answerHeaders, MAX_PROXY_BODY_BYTES, proxyToProvider, readLimitedBody, tokenFetch } from "@/lib/provider-proxy";
import { encryptToken, parseKeyring } from "@/lib/tokens/crypto";
import { epochNow, issueTokens, seedAccount, type SeededAccount } from "../../testkit/grants";
import { startLoopbackApi, type LoopbackApi } from "../support/loopback-api";
import { engineFor, startTestStack, type TestStack } from "../../testkit/stack";

// The proxy against a loopback API that checks every bearer at the dev provider, and
// against the dev provider's own API (#12).
let stack: TestStack;
let api: LoopbackApi;
let seq = 0;
beforeAll(async () => {
  stack = await startTestStack("pglite");
  api = await startLoopbackApi(stack.env.AUTH_OIDC_ISSUER!);
});
afterAll(async () => {
  await api?.close();
  await stack?.stop();
});
beforeEach(() => {
  api.script.clear();
});

const spec = () => providerSpecs({ ...stack.env, AUTH_OIDC_API_BASE_URL: api.base }).get("oidc")!;
const engine = () => engineFor(stack, { providers: new Map([["oidc", spec()]]) });
async function seeded(): Promise<SeededAccount> {
  const login = `proxy-${++seq}`;
  return seedAccount(stack.db, stack, login, await issueTokens(stack, login), epochNow() + 3600);
}
const rowOf = (account: SeededAccount) => stack.db.account.findUniqueOrThrow({ where: { id: account.accountId } });
const body = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;
async function call(account: SeededAccount, rawPath: string, init: Partial<Parameters<typeof proxyToProvider>[4]> = {}) {
  return proxyToProvider(engine(), spec(), await rowOf(account), rawPath, { method: "GET", headers: new Headers(), body: null, ...init });
}

describe("the provider API proxy", () => {
  it("forwards with the account's bearer and passes status, content type and body back, and nothing of the user's", async () => {
    const account = await seeded();
    const headers = new Headers({ cookie: "app-session=secret", authorization: "Bearer the-users-own", connection: "keep-alive", accept: "application/json", "content-type": "application/json" });
    const response = await call(account, "items/42", { method: "POST", headers, body: body('{"a":1}'), search: "?q=1" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await response.json()).toStrictEqual({ sub: `proxy-${seq}`, method: "POST", path: "/v1/items/42?q=1", body: '{"a":1}' });
    const sent = api.seen.at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${account.tokens.accessToken}`);
    expect(sent.headers.cookie).toBeUndefined();
    expect(sent.headers.accept).toBe("application/json");
    // The provider's cookies and other headers stay with the proxy.
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(response.headers.get("x-api")).toBeNull();
  });

  it("refreshes once and retries when the provider answers 401", async () => {
    const account = await seeded();
    // Refreshed longer ago than TOKEN_FORCED_REFRESH_INTERVAL_SECONDS (default 30).
    await stack.db.account.update({ where: { id: account.accountId }, data: { refreshedAt: new Date(Date.now() - 60_000) } });
    const keyring = parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS);
    await stack.db.account.update({
      where: { id: account.accountId },
      data: { access_token: await encryptToken(keyring, "revoked-early", { provider: "oidc", providerAccountId: `proxy-${seq}` }, "access_token") },
    });
    const refreshes = stack.oidc!.stats.refreshRequests;
    const seen = api.seen.length;
    const response = await call(account, "me-too");
    expect(response.status).toBe(200);
    expect(stack.oidc!.stats.refreshRequests - refreshes).toBe(1);
    expect(api.seen.length - seen).toBe(2);
  });

  it("waits out Retry-After on 429 and answers the third attempt", async () => {
    const account = await seeded();
    api.script.set("/v1/limited", [
      { status: 429, retryAfter: "1" },
      { status: 429, retryAfter: "1" },
    ]);
    const started = Date.now();
    const response = await call(account, "limited");
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect(api.seen.filter((request) => request.path === "/v1/limited")).toHaveLength(3);
  });

  it("answers 503 with Retry-After after three busy answers, without a fourth call", async () => {
    const account = await seeded();
    api.script.set("/v1/down", [{ status: 503, retryAfter: "1" }, { status: 503, retryAfter: "1" }, { status: 503, retryAfter: "2" }, { status: 503 }]);
    const error = await call(account, "down").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "provider_unavailable", providerStatus: 503 });
    const response = errorResponse(error);
    expect(response.status).toBe(503);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(api.seen.filter((request) => request.path === "/v1/down")).toHaveLength(3);
  });

  it("gives up at once when Retry-After is beyond its 10 s window", async () => {
    const account = await seeded();
    api.script.set("/v1/later", [{ status: 429, retryAfter: "60" }]);
    const started = Date.now();
    await expect(call(account, "later")).rejects.toMatchObject({ code: "provider_unavailable", providerStatus: 429 });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it.each([
    ["..", "../admin"],
    ["an encoded ..", "%2e%2e/admin"],
    ["a half-encoded ..", ".%2E/admin"],
    ["a double-encoded ..", "%252e%252e/admin"],
    ["an encoded slash", "items%2f..%2f..%2fadmin"],
    ["a backslash", "items\\..\\admin"],
    ["an encoded backslash", "items%5c..%5cadmin"],
    ["//host", "/evil.example/x"],
    ["an absolute URL", "https://evil.example/x"],
    ["an encoded absolute URL", "https:%2f%2fevil.example%2fx"],
    ["a .", "./items"],
    ["an empty segment", "items//x"],
    ["broken percent-encoding", "items/%zz"],
  ])("answers 400 for %s and sends nothing", async (_label, rawPath) => {
    const account = await seeded();
    const seen = api.seen.length;
    await expect(call(account, rawPath)).rejects.toMatchObject({ code: "invalid_request", status: 400 });
    expect(api.seen.length).toBe(seen);
  });

  it("answers 413 for a request body over 1 MB, declared or not", async () => {
    const big = new Uint8Array(MAX_PROXY_BODY_BYTES + 1);
    await expect(readLimitedBody(new Request("http://app/x", { method: "POST", body: big }))).rejects.toMatchObject({ code: "payload_too_large", status: 413 });
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(big);
        controller.close();
      },
    });
    await expect(readLimitedBody(new Request("http://app/x", { method: "POST", body: stream, duplex: "half" } as RequestInit))).rejects.toMatchObject({ status: 413 });
    expect(new Uint8Array((await readLimitedBody(new Request("http://app/x", { method: "POST", body: "{}" })))!)).toStrictEqual(new TextEncoder().encode("{}"));
  });

  it("calls the dev provider's own API through tokenFetch (API base: the issuer's origin)", async () => {
    const account = await seeded();
    const response = await tokenFetch(account.userId, "oidc", "me");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: `proxy-${seq}`, email: `proxy-${seq}@dev.tokenkeeper.test` });
  });
});

// #16: what the proxy answers is never a page of our origin, and what it forwards is an allow-list.
describe("the proxy's answers and what it forwards (#16)", () => {
  const inert = { "content-security-policy": "sandbox; default-src 'none'", "x-content-type-options": "nosniff", "cache-control": "private, no-store" };
  const headersOf = (response: Response) => Object.fromEntries(response.headers);

  it("makes every answer inert: sandboxed, not sniffed, never cached (the provider's Cache-Control dropped)", async () => {
    const response = await call(await seeded(), "me-json");
    expect(response.status).toBe(200);
    expect(headersOf(response)).toMatchObject({ ...inert, "content-type": "application/json; charset=utf-8" });
    expect(response.headers.get("content-disposition")).toBeNull();
  });

  it.each([
    ["an HTML page", { "content-type": "text/html" }, "attachment"],
    ["no content type at all", {}, "attachment"],
    ["SVG", { "content-type": "image/svg+xml" }, "attachment"],
    ["HTML the provider calls inline, with a file name", { "content-type": "text/html; charset=utf-8", "content-disposition": 'inline; filename="report.html"' }, 'attachment; filename="report.html"'],
    ["a file the provider sends as an attachment", { "content-type": "application/pdf", "content-disposition": 'attachment; filename="a.pdf"' }, 'attachment; filename="a.pdf"'],
  ])("sends %s as an attachment", async (_label, headers, disposition) => {
    const account = await seeded();
    api.script.set("/v1/file", [{ status: 200, headers, body: "<script>parent.steal()</script>" }]);
    const response = await call(account, "file");
    expect(headersOf(response)).toMatchObject({ ...inert, "content-disposition": disposition });
    expect(await response.text()).toBe("<script>parent.steal()</script>");
  });

  it("shows JSON and plain text as data, inline", () => {
    for (const type of ["application/json", "application/problem+json", "text/plain; charset=utf-8"]) {
      expect(answerHeaders(new Headers({ "content-type": type })).get("content-disposition")).toBeNull();
    }
  });

  it.each([
    ["Sec-Fetch-Mode: navigate", { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" }],
    ["an iframe", { "sec-fetch-mode": "no-cors", "sec-fetch-dest": "iframe" }],
    ["an embed", { "sec-fetch-dest": "embed" }],
  ])("answers 403 to a browser navigation (%s) without calling the provider", async (_label, headers) => {
    const account = await seeded();
    const seen = api.seen.length;
    const error = await call(account, "me-too", { headers: new Headers(headers) }).catch((e: unknown) => e);
    expect(errorResponse(error).status).toBe(403);
    expect(await errorResponse(error).json()).toMatchObject({ error: "forbidden", message: expect.any(String) });
    expect(api.seen.length).toBe(seen);
  });

  it("serves a fetch from the app's own page (Sec-Fetch-Mode: cors)", async () => {
    const response = await call(await seeded(), "me-too", { headers: new Headers({ "sec-fetch-mode": "cors", "sec-fetch-dest": "empty", "sec-fetch-site": "same-origin" }) });
    expect(response.status).toBe(200);
  });

  it("forwards only negotiation, conditional, range, content-type, user-agent and the provider's API headers", async () => {
    const account = await seeded();
    const sent = {
      accept: "application/json",
      "accept-language": "de",
      "if-none-match": '"v1"',
      range: "bytes=0-9",
      "content-type": "application/json",
      "user-agent": "tokenkeeper-test",
      "x-api-version": "2026-01-01",
      "x-vercel-oidc-token": "the-deployments-identity",
      "x-vercel-forwarded-for": "203.0.113.7",
      "x-vercel-ip-city": "Berlin",
      "x-vercel-proxy-signature": "sig",
      "x-middleware-subrequest": "middleware",
      "x-forwarded-for": "203.0.113.7",
      referer: "https://app.example/dashboard",
      origin: "https://app.example",
      cookie: "authjs.session-token=secret",
      "x-request-id": "r-1",
    };
    const withApiHeader = { ...spec(), apiHeaders: ["X-Api-Version"] };
    const response = await proxyToProvider(engine(), withApiHeader, await rowOf(account), "me-too", { method: "POST", headers: new Headers(sent), body: body("{}") });
    expect(response.status).toBe(200);
    const received = api.seen.at(-1)!.headers;
    for (const name of ["accept", "accept-language", "if-none-match", "range", "content-type", "user-agent", "x-api-version"]) expect(received[name], name).toBe(sent[name as keyof typeof sent]);
    for (const name of [
      "x-vercel-oidc-token",
      "x-vercel-forwarded-for",
      "x-vercel-ip-city",
      "x-vercel-proxy-signature",
      "x-middleware-subrequest",
      "x-forwarded-for",
      "referer",
      "origin",
      "cookie",
      "x-request-id",
    ]) {
      expect(received[name], name).toBeUndefined();
    }
    // The API header is the provider's own: another provider's spec does not pass it.
    await call(account, "me-too", { headers: new Headers({ "x-api-version": "2026-01-01" }) });
    expect(api.seen.at(-1)!.headers["x-api-version"]).toBeUndefined();
  });

  it("takes a client's Expect: 100-continue in its stride", async () => {
    const account = await seeded();
    const response = await call(account, "items", { method: "PUT", headers: new Headers({ expect: "100-continue", "content-type": "application/json" }), body: body('{"b":2}') });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ method: "PUT", body: '{"b":2}' });
    expect(api.seen.at(-1)!.headers.expect).toBeUndefined();
  });
});

describe("the provider's quota, protected from one user (#16)", () => {
  it("refreshes on a 401 at most once per forced-refresh interval, passing later 401s back as the provider sent them", async () => {
    const account = await seeded();
    await stack.db.account.update({ where: { id: account.accountId }, data: { refreshedAt: new Date(Date.now() - 60_000) } });
    const unauthorized = { status: 401, headers: { "content-type": "application/json", "www-authenticate": 'Bearer error="insufficient_scope"' }, body: '{"error":"nope"}' };
    api.script.set(
      "/v1/always-401",
      Array.from({ length: 11 }, () => ({ ...unauthorized })),
    );
    const refreshes = stack.oidc!.stats.refreshRequests;
    for (let i = 0; i < 10; i++) {
      const response = await call(account, "always-401");
      expect(response.status).toBe(401);
      expect(await response.json()).toStrictEqual({ error: "nope" });
    }
    expect(stack.oidc!.stats.refreshRequests - refreshes).toBe(1);
  });
});
