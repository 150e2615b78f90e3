import "server-only";
import type { z } from "zod";
import { appOrigin, consentLink, listUserAccounts } from "../accounts";
import { authenticateKey, keyRateLimiter, type ApiKeyScope, type KeyRateLimiter } from "../api-keys";
import type { AccountRow } from "../db/account-row";
import { insertTokenAudit } from "../db/api-keys";
import { invalidRequest, errorResponse, notFound, AppError } from "../errors";
import { parseParams } from "../params";
import { proxyToProvider, readLimitedBody } from "../provider-proxy";
import { takeProxyCall } from "../rate-limit";
import { scopesOf } from "../consent";
import { tokenkeeper } from "../tokenkeeper";
import { accountList, accountParams, consentLinkBody, noQuery, proxyParams, tokenBody, tokenQuery, userParams } from "./schemas";

// /api/v1, for the app's other services: each route once, here, with its method,
// path, key scope and schemas. The route files under app/api/v1 serve these, and
// the OpenAPI document is generated from this table. JSON answers; errors are
// {error, message}; no answer carries a token except the token route's.

type Context = { request: Request; params: Record<string, string>; query: Record<string, unknown>; account: AccountRow | null; keyId: string };

export type V1Route = {
  operationId: string;
  method: "GET" | "POST" | "ANY";
  /** OpenAPI path template; `{path}` is the rest of the URL (the proxy). */
  path: string;
  summary: string;
  scope: ApiKeyScope;
  params: z.ZodObject;
  query?: z.ZodObject;
  /** The 200 answer's schema (each answer is parsed with it); none: passed through as is (the proxy). */
  response?: z.ZodType;
  handle(context: Context): Promise<unknown>;
};

const NO_STORE = { "cache-control": "no-store" };

/** The account the path names, read with the key: 404 when there is none or its provider is off. */
function accountOf({ account }: Context) {
  const spec = account ? tokenkeeper().providers.get(account.provider) : undefined;
  if (!account || !spec) throw notFound("no such account (or its provider is not enabled)");
  return { account, spec };
}

export const V1_ROUTES: V1Route[] = [
  {
    operationId: "listUserAccounts",
    method: "GET",
    path: "/api/v1/users/{userId}/accounts",
    summary: "The user's linked accounts, as the dashboard lists them (404 not_found when no such user exists; [] for a user with none). Never a token.",
    scope: "accounts:read",
    params: userParams,
    query: noQuery,
    response: accountList,
    handle: ({ params }) => listUserAccounts(params.userId!),
  },
  {
    operationId: "getAccessToken",
    method: "GET",
    path: "/api/v1/accounts/{accountId}/token",
    summary:
      "A valid access token for the account, refreshed first when it would expire within minTtl (one refresh however many ask at once). 409 reauth_required: the user must reconnect. Each answer writes an audit row.",
    scope: "tokens:read",
    params: accountParams,
    query: tokenQuery,
    response: tokenBody,
    async handle(context) {
      const { account } = accountOf(context);
      const { minTtl, purpose } = context.query as z.infer<typeof tokenQuery>;
      const { engine, db } = tokenkeeper();
      const issued = await engine.issueToken(account, { minTtlSeconds: minTtl });
      await insertTokenAudit(db, { keyId: context.keyId, accountId: account.id, refreshed: issued.refreshed, minTtl, purpose: purpose ?? null });
      const body = {
        accessToken: issued.accessToken,
        tokenType: issued.tokenType ?? "Bearer",
        expiresAt: issued.expiresAt === null ? null : new Date(issued.expiresAt * 1000).toISOString(),
        scopes: scopesOf({ scope: issued.scope }),
      };
      return Response.json(tokenBody.parse(body), { headers: NO_STORE });
    },
  },
  {
    operationId: "proxyToProvider",
    method: "ANY",
    path: "/api/v1/accounts/{accountId}/proxy/{path}",
    summary:
      "Calls the provider's API as the account (any method): a fresh bearer, one refresh and retry on 401, Retry-After honoured; the path never leaves the provider's API base; bodies up to 1 MB. Within the key's rate and the account owner's proxy rate (TOKENKEEPER_PROXY_RATE, shared with the owner's own proxy calls).",
    scope: "proxy",
    params: proxyParams,
    async handle(context) {
      const { account, spec } = accountOf(context);
      // The owner's bucket too: a key drives one user's provider no harder than the user can.
      takeProxyCall(account.userId);
      const { request } = context;
      const body = ["GET", "HEAD"].includes(request.method) ? null : await readLimitedBody(request);
      return proxyToProvider(tokenkeeper().engine, spec, account, context.params.path!, { method: request.method, headers: request.headers, body, search: new URL(request.url).search });
    },
  },
  {
    operationId: "createReconnectLink",
    method: "POST",
    path: "/api/v1/accounts/{accountId}/reconnect",
    summary: "A short-lived signed link to send the account's owner: it runs the provider's consent for this same account (signing in first if needed) and brings it back to active.",
    scope: "reconnect",
    params: accountParams,
    query: noQuery,
    response: consentLinkBody,
    handle: (context) => consentLink(accountOf(context).account, appOrigin(context.request)),
  },
];

/** The path template as a pattern: `{name}` is one raw (still percent-encoded) segment, `{path}` the rest. */
function matcher(template: string): RegExp {
  const pattern = template.replace(/\{(\w+)\}/g, (_all, name: string) => (name === "path" ? "(?<path>.+)" : `(?<${name}>[^/]+)`));
  return new RegExp(`^${pattern}$`);
}
const MATCHERS = V1_ROUTES.map((route) => ({ route, pattern: matcher(route.path) }));

const globalForLimiter = globalThis as unknown as { tokenkeeperKeyLimiter?: KeyRateLimiter };
const limiter = () => (globalForLimiter.tokenkeeperKeyLimiter ??= keyRateLimiter(tokenkeeper().config.TOKENKEEPER_API_KEY_RATE));

/**
 * Serves one /api/v1 request: finds its route, checks the API key (before anything
 * else: a refused key costs no provider call), validates parameters, runs it.
 */
export async function serveV1(request: Request): Promise<Response> {
  try {
    const url = new URL(request.url);
    const candidates = MATCHERS.filter(({ pattern }) => pattern.test(url.pathname));
    if (candidates.length === 0) throw notFound(`no such route: ${url.pathname}`);
    const found = candidates.find(({ route }) => route.method === "ANY" || route.method === request.method);
    if (!found) throw new AppError("method_not_allowed", `${url.pathname} answers ${candidates.map(({ route }) => route.method).join(", ")}`);
    const { route, pattern } = found;
    const raw = pattern.exec(url.pathname)!.groups ?? {};
    // The proxy's path stays as the client encoded it (an encoded escape must be seen); ids are plain.
    const segments = Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, name === "path" ? value : safeDecode(value)]));
    // The key is checked first (401/403 before a 400), reading the account with it only
    // when the id is well-formed: a malformed one (a NUL, which Postgres refuses) reaches no SQL.
    const wellFormed = route.params.safeParse(segments).success;
    const { key, account } = await authenticateKey(tokenkeeper().db, request.headers.get("authorization"), route.scope, wellFormed ? (segments.accountId ?? null) : null, limiter());
    // Every path parameter is a string schema: the parsed object is the segments, checked.
    const params = parseParams(route.params, segments, "path") as Record<string, string>;
    const query = route.query ? parseParams(route.query, Object.fromEntries(url.searchParams), "query") : {};
    const result = await route.handle({ request, params, query, account, keyId: key.keyId });
    if (result instanceof Response) return result;
    return Response.json(route.response ? route.response.parse(result) : result);
  } catch (error) {
    return errorResponse(error);
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw invalidRequest("the path is not valid percent-encoding");
  }
}
