import type { Account } from "../db/generated/client";

// Pure decisions about an account's tokens: no I/O, tested with toStrictEqual.

export type StoredStatus = "active" | "reauth_required" | "signed_out";
export type AccountStatus = StoredStatus | "expiring" | "expired";

/** Accounts whose access token expires within this window show as "expiring". */
export const EXPIRING_WINDOW_SECONDS = 300;

type TokenFields = Pick<Account, "status" | "access_token" | "refresh_token" | "expires_at">;

export type RefreshDecision =
  | { should: false; reason: "fresh" | "no_expiry" }
  | { should: true; reason: "expired" | "expiring" | "no_access_token" }
  | { should: false; reason: "reauth_required" | "signed_out" | "no_refresh_token" };

export function shouldRefresh(account: TokenFields, now: Date, skewSeconds: number): RefreshDecision {
  if (account.status === "reauth_required" || account.status === "signed_out") return { should: false, reason: account.status };
  if (!account.access_token) {
    return account.refresh_token ? { should: true, reason: "no_access_token" } : { should: false, reason: "no_refresh_token" };
  }
  if (account.expires_at === null) return { should: false, reason: "no_expiry" };
  const secondsLeft = account.expires_at - now.getTime() / 1000;
  if (secondsLeft > skewSeconds) return { should: false, reason: "fresh" };
  if (!account.refresh_token) return { should: false, reason: "no_refresh_token" };
  return { should: true, reason: secondsLeft <= 0 ? "expired" : "expiring" };
}

export function accountStatus(account: Pick<Account, "status" | "expires_at">, now: Date): AccountStatus {
  if (account.status === "reauth_required" || account.status === "signed_out") return account.status;
  if (account.expires_at === null) return "active";
  const secondsLeft = account.expires_at - now.getTime() / 1000;
  if (secondsLeft <= 0) return "expired";
  return secondsLeft <= EXPIRING_WINDOW_SECONDS ? "expiring" : "active";
}
