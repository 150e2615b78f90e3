import { z } from "zod";
import { decimalInteger } from "../params";
import type { AccountStatus } from "../tokens/token-decision";

// The zod schemas of /api/v1: they validate each request's parameters and each
// answer, and the OpenAPI document (./openapi.ts) is generated from these same
// schemas. Schemas with an id in `components` become #/components/schemas/<id>.

export const components = z.registry<{ id: string; description?: string }>();

const id = (what: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, `must be ${what} (letters, digits, _ or -)`)
    .describe(what);

export const userParams = z.strictObject({ userId: id("a Tokenkeeper user id") });
export const accountParams = z.strictObject({ accountId: id("an account id (GET /api/v1/users/{userId}/accounts lists them)") });
export const proxyParams = accountParams.extend({ path: z.string().describe("the provider API path, under its API base (e.g. oauth2/v3/userinfo at Google)") });

/** A route that takes no query parameters: any is 400 invalid_request, as on the token route. */
export const noQuery = z.strictObject({});

export const tokenQuery = z.strictObject({
  minTtl: decimalInteger(0, 86_400).default(0).describe("seconds the token must still be valid for; a token expiring sooner is refreshed first (at most half the provider's token lifetime counts)"),
  // No control characters: Postgres refuses NUL in text (a 500 after the token was issued), and a line break would forge lines on the dashboard.
  purpose: z
    .string()
    .max(200)
    .regex(/^\P{Cc}*$/u, "no control characters")
    .optional()
    .describe("why the token is wanted, kept in the audit row"),
});

export const errorBody = z
  .object({
    error: z.string().describe("a stable code: unauthorized, invalid_token, insufficient_scope, invalid_request, not_found, reauth_required, rate_limited, provider_unavailable, …"),
    message: z.string(),
  })
  .register(components, { id: "Error", description: "Every error answer; some carry more fields (scope, accounts)." });

const ACCOUNT_STATUSES = ["active", "expiring", "expired", "reauth_required", "signed_out"] as const satisfies readonly AccountStatus[];

const isoOrNull = z.iso.datetime().nullable();

export const accountSummary = z
  .object({
    id: z.string(),
    provider: z.string(),
    providerAccountId: z.string(),
    identity: z.string().nullable().describe("who the account is at the provider: email, else name or username"),
    scopes: z.array(z.string()),
    status: z.enum(ACCOUNT_STATUSES),
    expiresAt: isoOrNull,
    refreshedAt: isoOrNull,
    lastError: z.string().nullable(),
    failureCount: z.number().int(),
    retryAfter: isoOrNull,
    reauthBy: isoOrNull.describe("when the grant ends whatever is refreshed: the user must sign in again by then"),
  })
  .register(components, { id: "Account", description: "A linked provider account, never a token." });

export const accountList = z.array(accountSummary);

export const tokenBody = z
  .object({
    accessToken: z.string(),
    tokenType: z.string().describe("as the provider named it, usually Bearer"),
    expiresAt: isoOrNull.describe("when the access token expires; null: the provider gave no expiry"),
    scopes: z.array(z.string()),
  })
  .register(components, { id: "AccessToken", description: "A valid provider access token for the account." });

export const consentLinkBody = z
  .object({
    url: z.url().describe("send the account's owner here: the provider's consent for this same account"),
    expiresAt: z.iso.datetime(),
  })
  .register(components, { id: "ReconnectLink", description: "A short-lived signed link." });
