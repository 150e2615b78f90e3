// One catalogue of error codes, and one function that turns any error into an
// HTTP answer: it decides what is logged and what is shown (never a token).
import { ConfigError } from "./env";
import { logger } from "./log";

export type ErrorCode =
  | "reauth_required" // the provider will not refresh: the user must sign in again
  | "provider_unavailable" // 5xx, 429, timeout, network: tokens kept, try later
  | "provider_rejected" // the provider refused the request for another reason
  | "refresh_busy" // another instance holds the refresh lease for too long
  | "not_found"
  | "bad_request"
  | "unauthorized"
  | "config";

const STATUS: Record<ErrorCode, number> = {
  reauth_required: 409,
  provider_unavailable: 503,
  provider_rejected: 502,
  refresh_busy: 503,
  not_found: 404,
  bad_request: 400,
  unauthorized: 401,
  config: 500,
};

export class TokenError extends Error {
  override name = "TokenError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
  get status() {
    return STATUS[this.code];
  }
}

export class ReauthRequiredError extends TokenError {
  override name = "ReauthRequiredError";
  constructor(message: string, options?: ErrorOptions) {
    super("reauth_required", message, options);
  }
}

export class ProviderUnavailableError extends TokenError {
  override name = "ProviderUnavailableError";
  constructor(
    message: string,
    readonly retryAfter?: Date,
    options?: ErrorOptions,
    /** The provider's HTTP status; undefined for timeouts and network errors. */
    readonly providerStatus?: number,
  ) {
    super("provider_unavailable", message, options);
  }
}

export const badRequest = (message: string) => new TokenError("bad_request", message);
export const notFound = (message: string) => new TokenError("not_found", message);

const log = logger("http");

export function errorResponse(error: unknown): Response {
  if (error instanceof TokenError) {
    const headers = new Headers({ "content-type": "application/json" });
    if (error instanceof ProviderUnavailableError && error.retryAfter) {
      headers.set("retry-after", String(Math.max(1, Math.ceil((error.retryAfter.getTime() - Date.now()) / 1000))));
    }
    if (error.status >= 500) log.warn("request.failed", { code: error.code, error });
    return new Response(JSON.stringify({ error: error.code, message: error.message }), { status: error.status, headers });
  }
  if (error instanceof ConfigError) {
    log.error("config.invalid", { message: error.message });
    return Response.json({ error: "config", message: error.message }, { status: 500 });
  }
  log.error("request.crashed", { error });
  return Response.json({ error: "internal", message: "Internal error" }, { status: 500 });
}
