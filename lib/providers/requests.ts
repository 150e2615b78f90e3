import * as o from "oauth4webapi";
import { ProviderUnavailableError, ReauthRequiredError, TokenError } from "../errors";
import type { Span } from "@opentelemetry/api";
import { inSpan } from "../telemetry";
import type { ProviderSpec } from "./types";

// The three provider calls Tokenkeeper makes, all through oauth4webapi, each with
// a bounded timeout. Errors come out typed: ReauthRequiredError when the grant is
// gone, ProviderUnavailableError when trying later may work.

export const PROVIDER_TIMEOUT_MS = 10_000;

export type TokenSet = {
  accessToken: string;
  /** The new refresh token, or the one sent when the provider returned none. */
  refreshToken: string;
  rotated: boolean;
  expiresAt: Date | null;
  scope: string | null;
  tokenType: string | null;
  idToken: string | null;
};

type CallOptions = { timeoutMs?: number; now?: () => Date };

function clientAuth(spec: ProviderSpec): o.ClientAuth {
  return spec.clientAuth === "basic" ? o.ClientSecretBasic(spec.clientSecret) : o.ClientSecretPost(spec.clientSecret);
}

function requestOptions(spec: ProviderSpec, timeoutMs = PROVIDER_TIMEOUT_MS) {
  return { [o.allowInsecureRequests]: spec.allowHttp, signal: AbortSignal.timeout(timeoutMs) };
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

/** Maps whatever a provider call threw to the catalogue (lib/errors.ts). */
export function classifyProviderError(spec: ProviderSpec, error: unknown, now = new Date()): TokenError {
  if (error instanceof TokenError) return error;
  if (error instanceof o.ResponseBodyError) {
    const retryAfter = parseRetryAfter(error.response.headers.get("retry-after"), now);
    if (error.error === "invalid_grant") {
      return new ReauthRequiredError(`${spec.id} rejected the refresh token (invalid_grant): sign in again`, { cause: error });
    }
    if (error.status >= 500 || error.status === 429) {
      return new ProviderUnavailableError(`${spec.id} answered ${error.status} (${error.error})`, { cause: error, retryAfter, providerStatus: error.status });
    }
    return new TokenError("provider_rejected", `${spec.id} answered ${error.status} (${error.error})`, { cause: error, providerStatus: error.status });
  }
  if (error instanceof o.OperationProcessingError && error.cause instanceof Response) {
    const { status } = error.cause;
    if (status >= 500 || status === 429) {
      const retryAfter = parseRetryAfter(error.cause.headers.get("retry-after"), now);
      return new ProviderUnavailableError(`${spec.id} answered ${status}`, { cause: error, retryAfter, providerStatus: status });
    }
    return new TokenError("provider_rejected", `${spec.id} answered ${status}`, { cause: error, providerStatus: status });
  }
  if (error instanceof o.WWWAuthenticateChallengeError) {
    return new TokenError("provider_rejected", `${spec.id} rejected the client credentials (${error.status})`, { cause: error, providerStatus: error.status });
  }
  const name = (error as { name?: string } | null)?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new ProviderUnavailableError(`${spec.id} did not answer in time`, { cause: error });
  }
  if (error instanceof TypeError) {
    return new ProviderUnavailableError(`${spec.id} is unreachable (${error.message})`, { cause: error });
  }
  return new TokenError("provider_rejected", `${spec.id} call failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}

/** A span around one provider HTTP call: the provider, the operation, how it ended. */
export const providerCall = <T>(spec: Pick<ProviderSpec, "id">, operation: string, work: (span: Span) => Promise<T>) =>
  inSpan(`tokenkeeper.provider.${operation}`, { "tokenkeeper.provider": spec.id, "tokenkeeper.operation": operation }, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      const status = (error as TokenError).providerStatus;
      if (status !== undefined) span.setAttribute("http.response.status_code", status);
      throw error;
    }
  });

/** The refresh_token grant. Callers cannot alter grant_type or the token sent. */
export function refreshGrant(spec: ProviderSpec, refreshToken: string, options: CallOptions = {}): Promise<TokenSet> {
  return providerCall(spec, "refresh_grant", () => refreshGrantRequest(spec, refreshToken, options));
}

async function refreshGrantRequest(spec: ProviderSpec, refreshToken: string, options: CallOptions): Promise<TokenSet> {
  const now = options.now ?? (() => new Date());
  try {
    const as = await spec.authorizationServer();
    const client: o.Client = { client_id: spec.clientId };
    const response = await o.refreshTokenGrantRequest(as, client, clientAuth(spec), refreshToken, requestOptions(spec, options.timeoutMs));
    const result = await o.processRefreshTokenResponse(as, client, response);
    const received = now();
    return {
      accessToken: result.access_token,
      refreshToken: result.refresh_token ?? refreshToken,
      rotated: result.refresh_token !== undefined && result.refresh_token !== refreshToken,
      expiresAt: typeof result.expires_in === "number" ? new Date(received.getTime() + result.expires_in * 1000) : null,
      scope: result.scope ?? null,
      tokenType: result.token_type ?? null,
      idToken: result.id_token ?? null,
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
export const accessTokenRejected = (spec: ProviderSpec, cause?: unknown) =>
  new TokenError("provider_rejected", `${spec.id} rejected the access token`, { cause, providerStatus: 401 });

export const isAccessTokenRejected = (error: unknown) => error instanceof TokenError && error.code === "provider_rejected" && error.providerStatus === 401;

/** GET the provider's userinfo endpoint with the user's access token. */
export function fetchUserinfo(spec: ProviderSpec, accessToken: string, options: CallOptions = {}): Promise<unknown> {
  return providerCall(spec, "userinfo", () => userinfoRequest(spec, accessToken, options));
}

async function userinfoRequest(spec: ProviderSpec, accessToken: string, options: CallOptions): Promise<unknown> {
  try {
    const as = await spec.authorizationServer();
    if (!as.userinfo_endpoint) throw new TokenError("not_found", `${spec.id} has no userinfo endpoint`);
    const response = await o.protectedResourceRequest(accessToken, "GET", new URL(as.userinfo_endpoint), new Headers({ accept: "application/json" }), null, requestOptions(spec, options.timeoutMs));
    if (response.status === 401) throw accessTokenRejected(spec);
    if (!response.ok) throw new o.OperationProcessingError(`userinfo answered ${response.status}`, { cause: response, code: o.RESPONSE_IS_NOT_CONFORM });
    return await response.json();
  } catch (error) {
    if (error instanceof o.WWWAuthenticateChallengeError && error.status === 401) throw accessTokenRejected(spec, error);
    throw classifyProviderError(spec, error);
  }
}
