// What a token endpoint's error answer means, as one pure decision. The classes are
// invariant 4 of the architecture:
// - reauth_required: the grant is gone; only the user can bring it back (RFC 6749
//   §5.2 invalid_grant; OpenID Connect Core §3.1.2.6 interaction_required,
//   login_required, consent_required, account_selection_required: a multi-factor or
//   conditional-access demand, a consent or an account choice only the user can make);
// - misconfigured: the app's own client credentials are refused (RFC 6749 §5.2
//   invalid_client, unauthorized_client, or a 401 challenge from the token endpoint):
//   no account is at fault, so none is marked, and the provider is paused;
// - unavailable: 5xx and 429, worth trying later (back-off, Retry-After);
// - rejected: anything else the provider refused; the account backs off.
// Providers with error shapes of their own (GitHub answers HTTP 200 with
// `bad_refresh_token`) plug matchers in front of the table: a matcher that answers
// a class decides; one that answers undefined leaves it to the next, then the table.

export type ErrorClass = "reauth_required" | "misconfigured" | "unavailable" | "rejected";

/** A token endpoint's error answer as the classifier sees it. */
export type ErrorAnswer = {
  /** The HTTP status (GitHub's errors come with 200). */
  status: number;
  /** The OAuth `error` code, when the body carried one. */
  error?: string;
  /** The parsed JSON body, for matchers that read more than `error`. */
  body?: unknown;
  /** A WWW-Authenticate challenge came with it (RFC 6749 §5.2: client authentication failed). */
  challenged?: boolean;
};

/** A provider's own error shapes: a class, or undefined to let the next matcher (then the table) decide. */
export type ErrorMatcher = (answer: ErrorAnswer) => ErrorClass | undefined;

const GRANT_GONE = new Set(["invalid_grant", "interaction_required", "login_required", "consent_required", "account_selection_required"]);
const CLIENT_REFUSED = new Set(["invalid_client", "unauthorized_client"]);

export function classifyErrorAnswer(answer: ErrorAnswer, matchers: readonly ErrorMatcher[] = []): ErrorClass {
  for (const matcher of matchers) {
    const decided = matcher(answer);
    if (decided) return decided;
  }
  if (answer.error !== undefined && GRANT_GONE.has(answer.error)) return "reauth_required";
  if (answer.error !== undefined && CLIENT_REFUSED.has(answer.error)) return "misconfigured";
  if (answer.status >= 500 || answer.status === 429) return "unavailable";
  if (answer.status === 401 && answer.challenged) return "misconfigured";
  return "rejected";
}
