// When a grant ends whatever we do, and when to say so. Pure: decided on the row
// and the refresh's answer, stored by the write-back (lib/db/refresh.ts), which
// writes account.reauth_upcoming with it.
//
// A provider that says how long its refresh token lives (refresh_token_expires_in)
// either extends that with each refresh (a sliding window: keeping the account alive
// is enough) or does not (an absolute lifetime, e.g. Microsoft Entra's 24-hour SPA
// refresh tokens, or a provider's 90-day cap: the user must sign in again by then).
// Which one is seen on the second refresh: a sliding expiry moves forward about as
// far as time did; an absolute one stays put.

import type { RefreshTokenLifetime } from "../providers/types";

/** Two ends closer than this are the same end (expires_in is rounded to seconds and read at different times). */
export const SAME_END_TOLERANCE_MS = 60 * 60 * 1000;

/** The least time between two refreshes that tells a sliding expiry from an absolute one. */
const MIN_ELAPSED_MS = 60_000;

const DAY_MS = 86_400_000;

export type GrantEndBefore = {
  /** The stored refresh token's expiry, and when it was written. */
  refreshTokenExpiresAt: Date | null;
  refreshedAt: Date | null;
  reauthBy: Date | null;
  reauthWarnedAt: Date | null;
};

/**
 * The grant's end after a refresh that left the refresh token expiring at `next`
 * (null: not known), or null while refreshing still extends the grant.
 */
export function grantEndAfterRefresh(before: GrantEndBefore, next: Date | null, now: Date): Date | null {
  if (!next || !before.refreshTokenExpiresAt || !before.refreshedAt) return null;
  const moved = next.getTime() - before.refreshTokenExpiresAt.getTime();
  const elapsed = now.getTime() - before.refreshedAt.getTime();
  // Within a minute, second-rounded lifetimes cannot tell the two apart: what was known stands.
  if (elapsed < MIN_ELAPSED_MS) return before.reauthBy;
  if (moved >= elapsed / 2) return null; // sliding: the refresh extended it
  // Keep the end already known when this is the same one, so the warning is sent once.
  if (before.reauthBy && Math.abs(before.reauthBy.getTime() - next.getTime()) < SAME_END_TOLERANCE_MS) return before.reauthBy;
  return next;
}

export type ReauthWarning = {
  /** What the row's reauthWarnedAt becomes. */
  reauthWarnedAt: Date | null;
  /** Write account.reauth_upcoming now. */
  warn: boolean;
  /** When the warning falls due and is not yet written: the sweep visits then. */
  dueAt: Date | null;
};

/** Whether account.reauth_upcoming is due for the grant end `reauthBy`: `days` before it, once per end. */
export function reauthWarning(reauthBy: Date | null, before: Pick<GrantEndBefore, "reauthBy" | "reauthWarnedAt">, days: number, now: Date): ReauthWarning {
  if (!reauthBy) return { reauthWarnedAt: null, warn: false, dueAt: null };
  if (before.reauthWarnedAt && before.reauthBy?.getTime() === reauthBy.getTime()) return { reauthWarnedAt: before.reauthWarnedAt, warn: false, dueAt: null };
  const dueAt = new Date(reauthBy.getTime() - days * DAY_MS);
  return dueAt <= now ? { reauthWarnedAt: now, warn: true, dueAt: null } : { reauthWarnedAt: null, warn: false, dueAt };
}

/**
 * The refresh token's expiry after a refresh, and the grant's end where it is known
 * outright. What the answer said (refresh_token_expires_in) wins; else what the
 * provider documents (its catalogue entry's refreshTokenLifetime): an idle window
 * runs `days` from now (each use restarts it); an absolute lifetime runs `days` from
 * the consent, that is from the stored end, or from the sign-in that left none
 * (`refreshedAt`: a sign-in with a new refresh token clears the stored end). Else the
 * stored expiry holds while the refresh token does.
 */
export function refreshTokenExpiryAfterRefresh(
  lifetime: RefreshTokenLifetime | undefined,
  said: Date | null,
  rotated: boolean,
  before: Pick<GrantEndBefore, "refreshTokenExpiresAt" | "refreshedAt">,
  now: Date,
): { refreshTokenExpiresAt: Date | null; reauthBy?: Date } {
  if (said) return { refreshTokenExpiresAt: said };
  if (lifetime?.kind === "idle") return { refreshTokenExpiresAt: new Date(now.getTime() + lifetime.days * DAY_MS) };
  if (lifetime?.kind === "absolute") {
    const end = before.refreshTokenExpiresAt ?? new Date((before.refreshedAt ?? now).getTime() + lifetime.days * DAY_MS);
    return { refreshTokenExpiresAt: end, reauthBy: end };
  }
  return { refreshTokenExpiresAt: rotated ? null : before.refreshTokenExpiresAt };
}
