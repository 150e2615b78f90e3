import "server-only";
import { resolveAccount } from "./accounts";
import type { AccountRow } from "./db/account-row";
import { invalidRequest, ProviderUnavailableError, AppError } from "./errors";
import { logger } from "./log";
import type { ProviderSpec } from "./providers";
import { accountApiBase } from "./providers/api-base";
import { parseRetryAfter, PROVIDER_TIMEOUT_MS, providerCall } from "./providers/requests";
import { takeProxyCall } from "./rate-limit";
import { tokenkeeper } from "./tokenkeeper";
import type { TokenEngine } from "./tokens/engine";
import { forcedRefreshAllowed } from "./tokens/token-decision";

// Calls a provider's API as the user: a fresh bearer on every call, one refresh and
// retry on 401, Retry-After honoured on 429/503, and never a request outside the
// provider's API base.

const log = logger("proxy");

export const MAX_PROXY_BODY_BYTES = 1024 * 1024;
const MAX_ATTEMPTS = 3;
const RETRY_WINDOW_MS = 10_000;
const DEFAULT_RETRY_MS = 1_000;

// Forwarded to the provider, and nothing else: content negotiation, conditional and
// range requests (RFC 9110 §12, §13, §14), the body's type and the client's name, plus
// the API headers the provider documents (ProviderSpec.apiHeaders). Whatever else a
// request carries stays here: the user's cookies and address, the platform's own
// headers (x-vercel-oidc-token is the deployment's identity), referer and origin,
// hop-by-hop headers and Expect (fetch sends bodies whole).
const FORWARDED = new Set(["accept", "accept-language", "content-type", "user-agent", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range", "range"]);
// What comes back besides status and body: never the provider's cookies, nor its
// Cache-Control (a shared cache must never serve one user's answer to another).
const PASSED_BACK = ["content-type", "content-language", "content-disposition", "content-range", "accept-ranges", "etag", "last-modified", "link", "location", "retry-after", "vary"];
// Every answer is inert on our origin: scripts never run, nothing is sniffed, nothing cached.
const ANSWER_HEADERS = {
  "content-security-policy": "sandbox; default-src 'none'",
  "x-content-type-options": "nosniff",
  "cache-control": "private, no-store",
};

/** JSON (application/json, application/*+json) and text/plain are shown as data; anything else is a download. */
export function isInlineData(contentType: string | null): boolean {
  const essence = contentType?.split(";")[0]?.trim().toLowerCase() ?? "";
  return essence === "application/json" || /^application\/[\w.+-]+\+json$/.test(essence) || essence === "text/plain";
}

/**
 * The headers sent with a proxy answer: the provider's that are safe to pass, and
 * ANSWER_HEADERS. A body that is not inline data goes as an attachment, under the
 * provider's Content-Disposition parameters (its filename) when it set one.
 */
export function answerHeaders(provider: Headers): Headers {
  const back = new Headers(ANSWER_HEADERS);
  for (const name of PASSED_BACK) {
    const value = provider.get(name);
    if (value !== null) back.set(name, value);
  }
  if (!isInlineData(back.get("content-type"))) {
    back.set("content-disposition", (back.get("content-disposition") ?? "attachment").replace(/^\s*[^;]*/, "attachment"));
  }
  return back;
}

// Sec-Fetch-Dest values of a document, or a frame or plugin embedding one (Fetch Metadata).
const DOCUMENT_DESTINATIONS = new Set(["document", "iframe", "frame", "fencedframe", "embed", "object"]);

/**
 * 403 for a browser navigation (Sec-Fetch-Mode: navigate, or a document or frame
 * destination): a link on any site carries the Lax session cookie, and what a
 * provider answers must never be opened as a page of our origin.
 */
export function refuseNavigation(headers: Headers): void {
  const mode = headers.get("sec-fetch-mode")?.toLowerCase();
  const dest = headers.get("sec-fetch-dest")?.toLowerCase();
  if (mode === "navigate" || (dest !== undefined && DOCUMENT_DESTINATIONS.has(dest))) {
    throw new AppError("forbidden", "the proxy answers API calls (fetch), not browser navigations");
  }
}

/**
 * The URL `rawPath` (as the client sent it, percent-encoded, without the leading
 * slash) names under `base`; 400 for anything that could leave it: an absolute URL,
 * `//host`, `.` or `..`, a backslash, or an encoded or double-encoded form of them.
 */
export function proxyTarget(base: string, rawPath: string, search = ""): URL {
  const root = new URL(base.endsWith("/") ? base : `${base}/`);
  const segments = rawPath.split("/");
  for (const segment of segments) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      throw invalidRequest("the API path is not valid percent-encoding");
    }
    if (segment === "" || decoded === "." || decoded === ".." || /[/\\]/.test(decoded) || /%(2e|2f|5c)/i.test(decoded) || /^[a-z][a-z0-9+.-]*:$/i.test(decoded)) {
      throw invalidRequest("the API path must stay under the provider's API base: no empty, '.', '..', '/' or '\\' segments, in any encoding");
    }
  }
  const target = new URL(segments.join("/") + search, root);
  if (target.origin !== root.origin || !target.pathname.startsWith(root.pathname)) throw invalidRequest("the API path leaves the provider's API base");
  return target;
}

/** After a 429 or 503: wait and try again, or give up (the caller answers 503 with Retry-After). */
export function retryAfterBusy(status: number, retryAfter: string | null, attempt: number, elapsedMs: number, now = new Date()): { retry: true; waitMs: number } | { retry: false; until: Date } {
  const at = parseRetryAfter(retryAfter, now);
  const waitMs = at ? at.getTime() - now.getTime() : DEFAULT_RETRY_MS;
  if ((status === 429 || status === 503) && attempt < MAX_ATTEMPTS && elapsedMs + waitMs <= RETRY_WINDOW_MS) return { retry: true, waitMs };
  return { retry: false, until: new Date(now.getTime() + waitMs) };
}

export type ProxyInit = { method: string; headers: Headers; body: ArrayBuffer | null; search?: string };

/** Reads a request body, answering 413 past `maxBytes` (default MAX_PROXY_BODY_BYTES) without reading further. */
export async function readLimitedBody(request: Request, maxBytes = MAX_PROXY_BODY_BYTES): Promise<ArrayBuffer | null> {
  const tooLarge = () => new AppError("payload_too_large", `request bodies here are limited to ${maxBytes} bytes`);
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > maxBytes) throw tooLarge();
  if (!request.body) return null;
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  if (size === 0) return null;
  // Copied into a buffer of exactly this size (a Buffer's .buffer may be a shared pool).
  const whole = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return whole.buffer;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sends `init` to `rawPath` under the account's API base (the provider's, or the
 * account's own where its token answers name it: lib/providers/api-base.ts) with a
 * fresh bearer, and passes the answer back (status, body streamed, answerHeaders). 403
 * `forbidden` for a browser navigation, 400 for a path leaving the API base; only
 * FORWARDED headers and the provider's `apiHeaders` are sent. `row` is the account
 * as its caller read it: the token is issued (and refreshed on a 401) from that row,
 * with no further read.
 */
export async function proxyToProvider(engine: TokenEngine, spec: ProviderSpec, row: AccountRow, rawPath: string, init: ProxyInit): Promise<Response> {
  refuseNavigation(init.headers);
  // The account as last read or written: a refresh may name another base (the org moved instance).
  const targetFor = (account: AccountRow) => proxyTarget(accountApiBase(spec, account.apiBaseUrl), rawPath, init.search);
  targetFor(row); // a path leaving the base is refused before any token is issued
  const allowed = new Set([...FORWARDED, ...spec.apiHeaders.map((name) => name.toLowerCase())]);
  const headers = new Headers();
  init.headers.forEach((value, name) => {
    if (allowed.has(name)) headers.set(name, value);
  });
  const started = Date.now();
  let issued = await engine.issueToken(row);
  const send = async () => {
    headers.set("authorization", `Bearer ${issued.accessToken}`);
    const target = targetFor(issued.account);
    return providerCall(spec, "api", async (span) => {
      span.setAttribute("http.request.method", init.method);
      try {
        const response = await fetch(target, { method: init.method, headers, body: init.body, redirect: "manual", signal: AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
        span.setAttribute("http.response.status_code", response.status);
        return response;
      } catch (error) {
        throw new ProviderUnavailableError(`${row.provider}'s API did not answer (${(error as Error).name})`, { cause: error });
      }
    });
  };

  let response = await send();
  // The token may be dead before its time (revoked, rotated elsewhere): refresh once,
  // as often as a forced refresh may run; sooner, the 401 goes back as it came. With
  // nothing to refresh with, the grant is over (reauth_required), and no provider call is made.
  if (response.status === 401 && (row.refresh_token === null || forcedRefreshAllowed(row, tokenkeeper().config.TOKEN_FORCED_REFRESH_INTERVAL_SECONDS))) {
    await response.body?.cancel();
    log.info("proxy.token_rejected", { accountId: row.id, provider: row.provider });
    issued = await engine.accessTokenRefused(issued.account);
    response = await send();
  }
  for (let attempt = 1; response.status === 429 || response.status === 503; attempt++) {
    const next = retryAfterBusy(response.status, response.headers.get("retry-after"), attempt, Date.now() - started);
    await response.body?.cancel();
    if (!next.retry) {
      throw new ProviderUnavailableError(`${row.provider}'s API answered ${response.status} ${attempt} times`, { retryAfter: next.until, providerStatus: response.status });
    }
    await sleep(next.waitMs);
    response = await send();
  }
  return new Response(response.body, { status: response.status, headers: answerHeaders(response.headers) });
}

/**
 * ANY /api/accounts/{account}/proxy/{...path}: the request, to the provider's API as
 * the signed-in user, within the user's proxy rate (429). The path is taken from the
 * URL as the client encoded it (not Next's decoded segments), so an encoded escape is
 * seen (400); 413 past MAX_PROXY_BODY_BYTES.
 */
export async function proxyForUser(userId: string, ref: string, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const rawPath = /^\/api\/accounts\/[^/]+\/proxy\/(.*)$/.exec(url.pathname)?.[1];
  if (!rawPath) throw invalidRequest("name an API path after /proxy/");
  takeProxyCall(userId);
  const { row, spec } = await resolveAccount(userId, ref);
  const body = ["GET", "HEAD"].includes(request.method) ? null : await readLimitedBody(request);
  return proxyToProvider(tokenkeeper().engine, spec, row, rawPath, { method: request.method, headers: request.headers, body, search: url.search });
}

/**
 * Calls the provider API as the user, from server code: `account` is an account id,
 * or a provider id while the user has one account there; `path` is relative to the
 * provider's API base (e.g. "oauth2/v3/userinfo" at Google).
 */
export async function tokenFetch(userId: string, account: string, path: string, init: { method?: string; headers?: HeadersInit; body?: string | ArrayBuffer | null } = {}): Promise<Response> {
  const { row, spec } = await resolveAccount(userId, account);
  const [rawPath = "", query] = path.replace(/^\//, "").split(/\?(.*)/s);
  const body = typeof init.body === "string" ? (new TextEncoder().encode(init.body).buffer as ArrayBuffer) : (init.body ?? null);
  return proxyToProvider(tokenkeeper().engine, spec, row, rawPath, { method: init.method ?? "GET", headers: new Headers(init.headers), body, search: query ? `?${query}` : "" });
}
