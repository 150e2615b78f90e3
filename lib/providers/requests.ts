import * as o from "oauth4webapi";
import { ProviderMisconfiguredError, ProviderUnavailableError, ReauthRequiredError, AppError } from "../errors";
import type { Span } from "@opentelemetry/api";
import { inSpan } from "../telemetry";
import { apiBaseOfAnswer, type ApiBaseCheck } from "./api-base";
import { classifyErrorAnswer, type ErrorAnswer } from "./error-classes";
import { grantCapCause } from "./grant-cap";
import { repairTokenAnswer } from "./token-answer";
import type { ProviderSpec } from "./types";

// The three provider calls Tokenkeeper makes, all through oauth4webapi, each with
// a bounded timeout. Errors come out typed: ReauthRequiredError when the grant is
// gone, ProviderUnavailableError when trying later may work.

export const PROVIDER_TIMEOUT_MS = 10_000;

/** A refresh the provider answered with a usable access token. */
export type TokenSet = {
  usable: true;
  accessToken: string;
  /** The new refresh token, or the one sent when the provider returned none. */
  refreshToken: string;
  rotated: boolean;
  expiresAt: Date | null;
  /** When the refresh token dies, from refresh_token_expires_in (null: not said). */
  refreshTokenExpiresAt: Date | null;
  scope: string | null;
  tokenType: string | null;
  idToken: string | null;
  /** The account's API base the answer named, or why it was refused (lib/providers/api-base.ts); undefined: none named, or the provider's base is static. */
  apiBase?: ApiBaseCheck;
  /** What was odd in the answer and was worked around (lib/providers/token-answer.ts), for the log. */
  repairs: string[];
};

/**
 * A refresh whose answer has no usable access token but a new refresh token: the
 * provider has redeemed the old one, so the new one must be stored all the same.
 */
export type RotationOnly = {
  usable: false;
  refreshToken: string;
  rotated: true;
  refreshTokenExpiresAt: Date | null;
  repairs: string[];
  /** Why the refresh failed (provider_rejected). */
  error: AppError;
};

export type RefreshAnswer = TokenSet | RotationOnly;

type CallOptions = { timeoutMs?: number; now?: () => Date };

function clientAuth(spec: ProviderSpec): o.ClientAuth {
  return spec.clientAuth === "basic" ? o.ClientSecretBasic(spec.clientSecret) : o.ClientSecretPost(spec.clientSecret);
}

/**
 * The same form fields as a JSON body, for providers whose token endpoint reads JSON
 * (Atlassian, Notion): oauth4webapi builds the request, this only re-encodes it.
 */
const jsonBodyFetch = (url: string, init: o.CustomFetchOptions<string, unknown>) => {
  const { body, ...rest } = init;
  if (!(body instanceof URLSearchParams)) return fetch(url, init as RequestInit);
  const headers = new Headers(rest.headers);
  headers.set("content-type", "application/json");
  return fetch(url, { ...rest, headers, body: JSON.stringify(Object.fromEntries(body)) });
};

function requestOptions(spec: ProviderSpec, timeoutMs = PROVIDER_TIMEOUT_MS) {
  return {
    [o.allowInsecureRequests]: spec.allowHttp,
    signal: AbortSignal.timeout(timeoutMs),
    ...(spec.tokenRequestBody === "json" ? { [o.customFetch]: jsonBodyFetch } : {}),
  };
}

/** An error answer's status, OAuth `error` (when the body has one) and parsed body, for the classifier. */
async function errorAnswerOf(response: Response): Promise<ErrorAnswer> {
  const body: unknown = await response.json().catch(() => undefined);
  const error = body !== null && typeof body === "object" ? (body as { error?: unknown }).error : undefined;
  return { status: response.status, error: typeof error === "string" ? error : undefined, body };
}

/**
 * The user's tokens out of a 200 answer: nested under `tokenAnswerPath` where the
 * provider puts them there (Slack's authed_user), and an absolute expires_at turned
 * into expires_in (Strava) — both before the answer is repaired and read.
 */
function userTokensOf(spec: ProviderSpec, body: Record<string, unknown>, received: Date): Record<string, unknown> {
  const nested = spec.tokenAnswerPath ? body[spec.tokenAnswerPath] : undefined;
  const fields = nested !== null && typeof nested === "object" && typeof (nested as { access_token?: unknown }).access_token === "string" ? { ...(nested as Record<string, unknown>) } : { ...body };
  if (spec.expiry === "expires_at" && typeof fields.expires_at === "number") fields.expires_in = fields.expires_at - Math.floor(received.getTime() / 1000);
  return fields;
}

/** The longest a provider's Retry-After may hold an account back. */
export const RETRY_AFTER_CAP_MS = 60 * 60 * 1000;

/**
 * Seconds or an HTTP date, as RFC 9110 allows, capped at RETRY_AFTER_CAP_MS (a
 * header must not freeze an account for years); undefined when absent, unreadable
 * or already past, so our own back-off applies instead.
 */
export function parseRetryAfter(value: string | null, now = new Date()): Date | undefined {
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  const at = Number.isFinite(seconds) ? now.getTime() + seconds * 1000 : Date.parse(value);
  if (Number.isNaN(at) || at <= now.getTime()) return undefined;
  return new Date(Math.min(at, now.getTime() + RETRY_AFTER_CAP_MS));
}

/** The environment variables of a provider's client credentials, for messages (Auth.js's naming). */
const credentialNames = (spec: Pick<ProviderSpec, "id">) => {
  const prefix = `AUTH_${spec.id.toUpperCase().replace(/-/g, "_")}`;
  return `${prefix}_ID / ${prefix}_SECRET`;
};

/** The typed error for a token-endpoint error answer, by what it means (lib/providers/error-classes.ts). */
function errorFromAnswer(spec: ProviderSpec, answer: ErrorAnswer, headers: Headers, cause: unknown, now: Date): AppError {
  const said = `${spec.id} answered ${answer.status}${answer.error ? ` (${answer.error})` : ""}`;
  const options = { cause, providerStatus: answer.status };
  switch (classifyErrorAnswer(answer, spec.errorMatchers)) {
    case "reauth_required":
      return new ReauthRequiredError(`${spec.id} refused the refresh token (${answer.error ?? answer.status}): sign in again${grantCapCause(spec.id, spec.liveGrantCap)}`, options);
    case "misconfigured":
      return new ProviderMisconfiguredError(`${said}: it refuses the app's client credentials; check ${credentialNames(spec)}`, options);
    case "unavailable":
      return new ProviderUnavailableError(said, { ...options, retryAfter: parseRetryAfter(headers.get("retry-after"), now) });
    case "rejected":
      return new AppError("provider_rejected", said, options);
  }
}

/** Maps whatever a provider call threw to the catalogue (lib/errors.ts). */
export function classifyProviderError(spec: ProviderSpec, error: unknown, now = new Date()): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof o.ResponseBodyError) {
    return errorFromAnswer(spec, { status: error.status, error: error.error, body: error.cause }, error.response.headers, error, now);
  }
  if (error instanceof o.OperationProcessingError && error.cause instanceof Response) {
    return errorFromAnswer(spec, { status: error.cause.status }, error.cause.headers, error, now);
  }
  if (error instanceof o.WWWAuthenticateChallengeError) {
    const code = error.cause.map((challenge) => challenge.parameters.error).find((value) => value !== undefined);
    return errorFromAnswer(spec, { status: error.status, error: code, challenged: true }, error.response.headers, error, now);
  }
  const name = (error as { name?: string } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new ProviderUnavailableError(`${spec.id} did not answer in time`, { cause: error });
  }
  if (error instanceof TypeError) {
    return new ProviderUnavailableError(`${spec.id} is unreachable (${error.message})`, { cause: error });
  }
  return new AppError("provider_rejected", `${spec.id} call failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

/** A span around one provider HTTP call: the provider, the operation, how it ended. */
export const providerCall = <T>(spec: Pick<ProviderSpec, "id">, operation: string, work: (span: Span) => Promise<T>) =>
  inSpan(`tokenkeeper.provider.${operation}`, { "tokenkeeper.provider": spec.id, "tokenkeeper.operation": operation }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      const status = (error as AppError).providerStatus;
      if (status !== undefined) span.setAttribute("http.response.status_code", status);
      throw error;
    }
  });

/**
 * The refresh_token grant. Callers cannot alter grant_type or the token sent.
 * Resolves to the new tokens, or (the answer had no usable access token but a new
 * refresh token) to the rotation alone, which the caller must store. Whatever else
 * is odd in a 200 answer is repaired (lib/providers/token-answer.ts); an ID token that
 * fails oauth4webapi's validation is dropped, not the refresh (OpenID Connect Core
 * §12.2 makes it optional on a refresh). Throws an AppError for an error answer
 * (classified by lib/providers/error-classes.ts), a timeout or a network failure.
 */
export function refreshGrant(spec: ProviderSpec, refreshToken: string, options: CallOptions = {}): Promise<RefreshAnswer> {
  return providerCall(spec, "refresh_grant", async () => {
    try {
      return await refreshGrantRequest(spec, refreshToken, options);
    } catch (error) {
      if (!isLostAnswer(error)) throw error;
      // The provider may have redeemed the token and rotated it, and we will never know.
      if (spec.rotation.mode === "none" || spec.rotation.mode === "lenient" || (spec.rotation.reuseGraceSeconds ?? 0) > 0) {
        // The spent token is still accepted (not rotated, kept valid, or within the
        // provider's reuse grace): asking again at once is safe and finds the answer.
        return refreshGrantRequest(spec, refreshToken, options);
      }
      throw new ProviderUnavailableError(
        `${spec.id} did not answer the refresh in time: ${LOST_ANSWER}; it rotates refresh tokens, so the stored one may be spent and the user may have to sign in again`,
        { cause: error },
      );
    }
  });
}

/** Said in lastError (and the events that carry it) when a refresh's answer never arrived from a rotating provider. */
export const LOST_ANSWER = "the answer was lost after the request was sent";

/** A timeout once the request was out: the provider may have acted on it (a refused connection is not this). */
const isLostAnswer = (error: unknown) => error instanceof ProviderUnavailableError && (error.cause as { name?: string } | undefined)?.name === "TimeoutError";

const jsonResponse = (json: Record<string, unknown>) => new Response(JSON.stringify(json), { status: 200, headers: { "content-type": "application/json" } });

async function refreshGrantRequest(spec: ProviderSpec, refreshToken: string, options: CallOptions): Promise<RefreshAnswer> {
  const now = options.now ?? (() => new Date());
  try {
    const as = await spec.authorizationServer();
    const client: o.Client = { client_id: spec.clientId };
    const response = await o.refreshTokenGrantRequest(as, client, clientAuth(spec), refreshToken, requestOptions(spec, options.timeoutMs));
    if (response.status !== 200) {
      // Challenges are oauth4webapi's to read; other error bodies are classified as the
      // provider shaped them (Twitch {status, message}, Strava errors[], HubSpot status).
      if (response.headers.has("www-authenticate")) await o.processRefreshTokenResponse(as, client, response);
      throw errorFromAnswer(spec, await errorAnswerOf(response), response.headers, undefined, now());
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
      throw new AppError("provider_rejected", `${spec.id} answered 200 without a JSON object`, { providerStatus: 200 });
    }
    // An error in a 200 answer (GitHub, Slack's ok:false, Reddit): the same classes as any error answer.
    const said = body as Record<string, unknown>;
    if (typeof said.error === "string" && said.access_token === undefined) {
      throw errorFromAnswer(spec, { status: 200, error: said.error, body }, response.headers, undefined, now());
    }
    const received = now();
    const fields = userTokensOf(spec, said, received);
    const { json, repairs, usable, refreshTokenExpiresIn } = repairTokenAnswer(fields);
    const sent = typeof json.refresh_token === "string" ? json.refresh_token : undefined;
    const rotation = {
      refreshToken: sent ?? refreshToken,
      rotated: sent !== undefined && sent !== refreshToken,
      refreshTokenExpiresAt: refreshTokenExpiresIn === null ? null : new Date(received.getTime() + refreshTokenExpiresIn * 1000),
    };
    let result: o.TokenEndpointResponse | undefined;
    let failure: unknown;
    const validated = () =>
      o.processRefreshTokenResponse(as, client, jsonResponse(json)).catch((error: unknown) => {
        failure = error;
        return undefined;
      });
    if (usable) {
      result = await validated();
      if (!result && json.id_token !== undefined) {
        repairs.push(`id_token failed validation (${(failure as Error).message}): dropped`);
        delete json.id_token;
        result = await validated();
      }
    }
    if (!result) {
      const error = new AppError("provider_rejected", `${spec.id} answered 200 without a usable access token`, { cause: failure, providerStatus: 200 });
      if (!rotation.rotated) throw error;
      return { usable: false, ...rotation, rotated: true, repairs, error };
    }
    return {
      usable: true,
      accessToken: result.access_token,
      ...rotation,
      expiresAt: typeof result.expires_in === "number" ? new Date(received.getTime() + result.expires_in * 1000) : null,
      scope: result.scope ?? null,
      tokenType: result.token_type ?? null,
      idToken: result.id_token ?? null,
      apiBase: apiBaseOfAnswer(spec, said),
      repairs,
    };
  } catch (error) {
    throw classifyProviderError(spec, error, now());
  }
}

/** RFC 7009 revocation; false when the provider has no revocation endpoint. */
export function revokeToken(spec: ProviderSpec, token: string, hint: "refresh_token" | "access_token", options: CallOptions = {}): Promise<boolean> {
  return providerCall(spec, "revocation", () => revocationRequest(spec, token, hint, options));
}

async function revocationRequest(spec: ProviderSpec, token: string, hint: "refresh_token" | "access_token", options: CallOptions): Promise<boolean> {
  try {
    const as = await spec.authorizationServer();
    if (!as.revocation_endpoint) return false;
    const client: o.Client = { client_id: spec.clientId };
    const response = await o.revocationRequest(as, client, clientAuth(spec), token, {
      ...requestOptions(spec, options.timeoutMs),
      additionalParameters: { token_type_hint: hint },
    });
    await o.processRevocationResponse(response);
    return true;
  } catch (error) {
    throw classifyProviderError(spec, error);
  }
}

/** The provider's API refused the access token itself: a refresh may help. */
export const accessTokenRejected = (spec: ProviderSpec, cause?: unknown) => new AppError("provider_rejected", `${spec.id} rejected the access token`, { cause, providerStatus: 401 });

export const isAccessTokenRejected = (error: unknown) => error instanceof AppError && error.code === "provider_rejected" && error.providerStatus === 401;

/** GET the provider's userinfo endpoint with the user's access token. */
export function fetchUserinfo(spec: ProviderSpec, accessToken: string, options: CallOptions = {}): Promise<unknown> {
  return providerCall(spec, "userinfo", () => userinfoRequest(spec, accessToken, options));
}

async function userinfoRequest(spec: ProviderSpec, accessToken: string, options: CallOptions): Promise<unknown> {
  try {
    const as = await spec.authorizationServer();
    if (!as.userinfo_endpoint) throw new AppError("not_found", `${spec.id} has no userinfo endpoint`);
    const response = await o.protectedResourceRequest(accessToken, "GET", new URL(as.userinfo_endpoint), new Headers({ accept: "application/json" }), null, requestOptions(spec, options.timeoutMs));
    if (response.status === 401) throw accessTokenRejected(spec);
    if (!response.ok) throw new o.OperationProcessingError(`userinfo answered ${response.status}`, { cause: response, code: o.RESPONSE_IS_NOT_CONFORM });
    return await response.json();
  } catch (error) {
    if (error instanceof o.WWWAuthenticateChallengeError && error.status === 401) throw accessTokenRejected(spec, error);
    throw classifyProviderError(spec, error);
  }
}
