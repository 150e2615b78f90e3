import type { SignOutMode } from "@/lib/env";

// What a person reads when something goes wrong: Auth.js's sign-in error codes and
// the API's `{error}` codes as sentences, times in the reader's own zone. Pure, so
// the words are tested without a browser (tests/unit/messages.unit.test.ts).

/**
 * Auth.js's `?error=` codes on the sign-in page (@auth/core's SignInPageErrorParam
 * and ErrorPageParam). A cancelled consent arrives as OAuthCallbackError.
 */
const SIGN_IN_ERRORS: Record<string, string> = {
  OAuthCallbackError: "Sign-in was cancelled, or the provider did not give permission. Nothing was changed — you can try again.",
  AccessDenied: "The provider did not give permission, so nothing was connected. You can try again.",
  OAuthAccountNotLinked: "That email is already used by another way of signing in. Sign in the way you did before, then link this account from the dashboard.",
  OAuthSignin: "We couldn’t reach the provider to start sign-in. Try again in a moment.",
  Configuration: "Sign-in isn’t set up correctly on this server. Please tell the people who run it.",
  Verification: "That sign-in link has expired or was already used. Start again.",
  SessionRequired: "Please sign in to see that page.",
};

export function signInErrorText(code: string): string {
  return SIGN_IN_ERRORS[code] ?? "Sign-in didn’t finish. Try again — if it keeps happening, tell the people who run this site.";
}

/** A moment as the reader's clock shows it: "14:03:15" today, else with the date. */
export function localTime(at: Date, now = new Date(), locale?: string): string {
  const sameDay = at.toDateString() === now.toDateString();
  return sameDay ? at.toLocaleTimeString(locale, { hour: "numeric", minute: "2-digit", second: "2-digit" }) : at.toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
}

export type ApiFailure = { status: number; error?: string; retryAfterSeconds?: number };

/** An /api/accounts answer that was not OK, as a sentence about `subject` ("Google · ada@…"). */
export function apiErrorText(failure: ApiFailure, subject: string, now = new Date(), locale?: string): string {
  const at = failure.retryAfterSeconds === undefined ? null : localTime(new Date(now.getTime() + failure.retryAfterSeconds * 1000), now, locale);
  switch (failure.error) {
    case "rate_limited":
      return `${subject} was refreshed moments ago. You can refresh it again${at ? ` at ${at}` : " shortly"}.`;
    case "refresh_busy":
      return `A refresh of ${subject} is already under way. Try again${at ? ` at ${at}` : " in a few seconds"}.`;
    case "provider_unavailable":
      return `The provider isn’t answering for ${subject} right now. Nothing was lost; try again${at ? ` at ${at}` : " in a minute"}.`;
    case "reauth_required":
      return `The provider no longer accepts ${subject} — access was revoked or has expired. Reconnect to continue.`;
    case "provider_rejected":
      return `The provider refused the request for ${subject}.`;
    case "provider_misconfigured":
      return `The provider refused this site’s own credentials, so ${subject} can’t be renewed right now. Nothing was lost; the people who run this site need to fix a setting.`;
    case "not_found":
      return `${subject} is no longer linked. Reload the page to see your accounts.`;
    case "unauthorized":
      return "Your session has ended. Sign in again to continue.";
    case "undecryptable":
    case "config":
      return `Tokenkeeper can’t use ${subject} because of a server setting. Please tell the people who run this site.`;
    default:
      return `Something went wrong with ${subject} (error ${failure.status}). Try again.`;
  }
}

const connected = (n: number) => (n === 1 ? "1 connected account" : `${n} connected accounts`);

/** What signing out does to background access (TOKENKEEPER_SIGN_OUT), said before it happens. */
export function signOutConsequence(mode: SignOutMode, accounts: number): string {
  if (accounts === 0) return "None of your accounts has background access now, so nothing else changes.";
  return mode === "clear"
    ? `Background access stops for your ${connected(accounts)}: apps can’t act for you until you sign in again.`
    : `Your ${connected(accounts)} ${accounts === 1 ? "keeps" : "keep"} background access: apps go on acting for you. Disconnect an account to stop that.`;
}
