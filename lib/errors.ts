// One error type with one catalogue of codes, and one function that turns any
// error into an HTTP answer: it decides what is logged and what is shown (never a
// token). Edge-safe: the middleware answers its 401 through the same function.
import { logger } from "./log";

const CATALOGUE = {
  reauth_required: 409, // the provider will not refresh: the user must sign in again
  ambiguous_account: 409, // a provider id where the user has several accounts there
  provider_unavailable: 503, // 5xx, 429, timeout, network: tokens kept, try later
  provider_rejected: 502, // the provider refused the request for another reason
  provider_misconfigured: 502, // the provider refused the app's own client credentials: operators must act
  refresh_busy: 503, // another instance holds the refresh lease for too long
  rate_limited: 429, // this client asked too often (a forced refresh, the proxy rate)
  forbidden: 403, // a cross-site request, or a browser navigation to the proxy
  method_not_allowed: 405,
  payload_too_large: 413,
  not_found: 404,
  invalid_request: 400, // the request is malformed: a parameter unknown, malformed or out of range, named in the message (RFC 6749 §5.2, RFC 6750 §3.1)
  unauthorized: 401,
  invalid_token: 401, // an API key that is malformed, unknown or revoked (RFC 6750 §3.1)
  insufficient_scope: 403, // an API key without the scope the route needs (RFC 6750 §3.1)
  config: 500, // a missing or malformed setting, named in the message
  undecryptable: 500, // a stored token none of TOKEN_ENCRYPTION_KEYS opens
} as const;

export type ErrorCode = keyof typeof CATALOGUE;

export type AppErrorOptions = {
  cause?: unknown;
  /** No point in trying again before this instant (sent as Retry-After). */
  retryAfter?: Date;
  /** The provider's HTTP status, when a provider answer caused this. */
  providerStatus?: number;
  /** Fields the JSON answer carries beside {error, message} (e.g. the ids to choose from). */
  details?: Record<string, unknown>;
};

// Next bundles each route on its own, so one process may hold several copies of this
// module, and the Tokenkeeper on globalThis throws the copy of whichever route built
// it. instanceof goes by each class's kind, not its identity, so every copy knows the
// errors of every other (a route's errorResponse answered them 500 internal).
const KIND: unique symbol = Symbol.for("tokenkeeper.error-kind");
type Kinded = { [KIND]?: string };

/**
 * The app's error: a stable code from the catalogue above (its HTTP status), a message
 * safe to show, and its cause. Not only about tokens: a bad request, a config error,
 * a provider's answer, a rate limit are all AppErrors, and errorResponse turns any of
 * them into `{error, message}`.
 */
export class AppError extends Error {
  static readonly [KIND]: string = "AppError";
  static [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of instanceof (a subclass too), not AppError
    const target = this as Kinded & { name: string };
    // Its own kind, not one inherited: a subclass without one would match every AppError.
    if (!Object.hasOwn(target, KIND)) throw new TypeError(`${target.name} declares no error kind (static [KIND])`);
    const kind = target[KIND];
    for (let proto = typeof value === "object" && value !== null ? Object.getPrototypeOf(value) : null; proto; proto = Object.getPrototypeOf(proto)) {
      if ((proto.constructor as Kinded | undefined)?.[KIND] === kind) return true;
    }
    return false;
  }
  override name = "AppError";
  readonly code: ErrorCode;
  readonly retryAfter?: Date;
  readonly providerStatus?: number;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, { cause, retryAfter, providerStatus, details }: AppErrorOptions = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.retryAfter = retryAfter;
    this.providerStatus = providerStatus;
    this.details = details;
  }
  get status(): number {
    return CATALOGUE[this.code];
  }
}

// The two a library caller tells apart (the contract of getAccessToken).
export class ReauthRequiredError extends AppError {
  static override readonly [KIND] = "ReauthRequiredError";
  override name = "ReauthRequiredError";
  constructor(message: string, options?: AppErrorOptions) {
    super("reauth_required", message, options);
  }
}

export class ProviderUnavailableError extends AppError {
  static override readonly [KIND] = "ProviderUnavailableError";
  override name = "ProviderUnavailableError";
  constructor(message: string, options?: AppErrorOptions) {
    super("provider_unavailable", message, options);
  }
}

/** The provider refused the app's client credentials (invalid_client, unauthorized_client): no user can fix it. */
export class ProviderMisconfiguredError extends AppError {
  static override readonly [KIND] = "ProviderMisconfiguredError";
  override name = "ProviderMisconfiguredError";
  constructor(message: string, options?: AppErrorOptions) {
    super("provider_misconfigured", message, options);
  }
}

/** A malformed request, named in the message: 400 invalid_request. */
export const invalidRequest = (message: string) => new AppError("invalid_request", message);
export const notFound = (message: string) => new AppError("not_found", message);
export const configError = (message: string, options?: AppErrorOptions) => new AppError("config", message, options);
export const unauthorized = (message = "Sign in first.") => new AppError("unauthorized", message);

const log = logger("http");

/** Whole seconds until `at`, at least 1: what a Retry-After header carries. */
export function retryAfterSeconds(at: Date, now = Date.now()): number {
  return Math.max(1, Math.ceil((at.getTime() - now) / 1000));
}

export function errorResponse(error: unknown): Response {
  if (error instanceof AppError) {
    const headers = new Headers({ "content-type": "application/json" });
    if (error.retryAfter) headers.set("retry-after", String(retryAfterSeconds(error.retryAfter)));
    if (error.code === "config" || error.code === "undecryptable") log.error("request.misconfigured", { code: error.code, error });
    else if (error.status >= 500) log.warn("request.failed", { code: error.code, error });
    return new Response(JSON.stringify({ ...error.details, error: error.code, message: error.message }), { status: error.status, headers });
  }
  log.error("request.crashed", { error });
  return Response.json({ error: "internal", message: "Internal error" }, { status: 500 });
}
