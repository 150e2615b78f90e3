import type { Account } from "../db/generated/client";
import type { ClaimCondition } from "../db/refresh";

// Pure decisions about an account's tokens: no I/O, tested table-style.

export type StoredStatus = "active" | "reauth_required" | "signed_out";
export type AccountStatus = StoredStatus | "expiring" | "expired";

/** Accounts whose access token expires within this window show as "expiring". */
export const EXPIRING_WINDOW_SECONDS = 300;

export type TokenState = Pick<Account, "status" | "access_token" | "refresh_token" | "expires_at" | "retryAfter" | "leaseOwner" | "leaseUntil" | "tokenVersion">;

/**
 * What a caller who wants an access token does next:
 * - use: hand out the stored access token;
 * - refresh: take the lease and refresh;
 * - wait: another holder is refreshing: look again shortly;
 * - backoff: a refresh failed lately and nothing usable is stored: fail with `until`;
 * - reauth: no refresh is possible until the user signs in again.
 */
export type TokenDecision =
  | { action: "use" }
  | { action: "refresh"; reason: "expired" | "expiring" | "no_access_token" | "forced" }
  | { action: "wait" }
  | { action: "backoff"; until: Date }
  | { action: "reauth"; reason: "reauth_required" | "signed_out" | "no_refresh_token" };

export type DecideOptions = {
  now: Date;
  skewSeconds: number;
  /** A forced refresh is satisfied only by tokens newer than this version. */
  forceAfterVersion?: number;
};

/**
 * The access token's expiry as an instant. The column is epoch seconds in a BIGINT,
 * which Prisma hands out as a JS bigint (through the Neon HTTP adapter too); any
 * instant a Date can hold is exact as a number.
 */
export function accessTokenExpiry(expiresAt: bigint | null): Date | null {
  return expiresAt === null ? null : new Date(Number(expiresAt) * 1000);
}

/** Seconds until the access token expires (Infinity when no expiry is known). */
const secondsLeftOf = (expiresAt: bigint | null, now: Date) => (expiresAt === null ? Infinity : Number(expiresAt) - now.getTime() / 1000);

export function decide(account: TokenState, { now, skewSeconds, forceAfterVersion }: DecideOptions): TokenDecision {
  if (account.status === "reauth_required" || account.status === "signed_out") return { action: "reauth", reason: account.status };
  const secondsLeft = secondsLeftOf(account.expires_at, now);
  const forced = forceAfterVersion !== undefined && account.tokenVersion <= forceAfterVersion;
  if (account.access_token && secondsLeft > skewSeconds && !forced) return { action: "use" };
  if (!account.refresh_token) return { action: "reauth", reason: "no_refresh_token" };
  if (account.leaseOwner && account.leaseUntil && account.leaseUntil > now) return { action: "wait" };
  if (account.retryAfter && account.retryAfter > now) {
    // Backing off: a token that has not yet expired is still worth handing out.
    if (account.access_token && secondsLeft > 0 && !forced) return { action: "use" };
    return { action: "backoff", until: account.retryAfter };
  }
  if (forced) return { action: "refresh", reason: "forced" };
  if (!account.access_token) return { action: "refresh", reason: "no_access_token" };
  return { action: "refresh", reason: secondsLeft <= 0 ? "expired" : "expiring" };
}

/**
 * decide()'s "refresh" as the claim's condition on the row the database holds
 * (lib/db/refresh.ts claimLease), so the two agree to the second: the access token
 * is missing, expires at or before `staleBy` (epoch s: expires_at is whole seconds,
 * so expires_at − now ≤ skew is expires_at ≤ ⌊now + skew⌋), or the refresh is forced
 * and the tokens are no newer than `forceAfterVersion`. A back-off ends by `at`,
 * decide()'s own instant: the app's clock wrote retryAfter.
 */
export function claimCondition({ now, skewSeconds, forceAfterVersion }: DecideOptions): ClaimCondition {
  return { at: now, staleBy: Math.floor(now.getTime() / 1000 + skewSeconds), forceAfterVersion };
}

export function accountStatus(account: Pick<Account, "status" | "expires_at">, now: Date): AccountStatus {
  if (account.status === "reauth_required" || account.status === "signed_out") return account.status;
  const secondsLeft = secondsLeftOf(account.expires_at, now);
  if (secondsLeft === Infinity) return "active";
  if (secondsLeft <= 0) return "expired";
  return secondsLeft <= EXPIRING_WINDOW_SECONDS ? "expiring" : "active";
}

/** When a user may force the next refresh of an account last refreshed at `refreshedAt`. */
export function nextForcedRefreshAt(refreshedAt: Date | null, intervalSeconds: number): Date | null {
  return refreshedAt ? new Date(refreshedAt.getTime() + intervalSeconds * 1000) : null;
}

/**
 * May a refresh be forced now (a user's "Refresh now", a provider's 401)? At most one
 * per account per `intervalSeconds` after any refresh, so no user can spend the app's
 * quota at the provider for everyone.
 */
export function forcedRefreshAllowed(account: Pick<Account, "refreshedAt">, intervalSeconds: number, now = new Date()): boolean {
  const allowedAt = nextForcedRefreshAt(account.refreshedAt, intervalSeconds);
  return !allowedAt || allowedAt <= now;
}
