import type { ApiBaseFromAnswer, ProviderSpec } from "./types";

// Where an account's API lives, for providers whose token answer says so (Salesforce's
// instance_url is the org's own host; Zoho's api_domain its data centre's). The answer
// is network input: a base is taken only if it is an https origin under a domain the
// provider documents, since the proxy sends the user's bearer token there. Pure.

/** A base the answer named, as an origin; or why it was refused (words for a log line: the host at most, never the value whole). */
export type ApiBaseCheck = { url: string } | { refused: string };

/**
 * `value` as an API base under `rule`: an https URL with no credentials, port, path
 * (but "/"), query or fragment, whose host is a subdomain of one of `rule.domains`;
 * answered as its origin (`https://host`), or refused with the reason.
 */
export function checkApiBase(value: unknown, rule: ApiBaseFromAnswer): ApiBaseCheck {
  if (typeof value !== "string" || !URL.canParse(value)) return { refused: `${rule.field} is not a URL` };
  const url = new URL(value);
  if (url.protocol !== "https:") return { refused: `${rule.field} is not https` };
  if (url.username || url.password || url.port || url.pathname !== "/" || url.search || url.hash) {
    return { refused: `${rule.field} is not a bare origin (credentials, a port, a path, a query or a fragment)` };
  }
  if (!rule.domains.some((domain) => url.hostname.endsWith(`.${domain}`))) {
    return { refused: `${rule.field}'s host ${url.hostname.slice(0, 100)} is not under ${rule.domains.join(", ")}` };
  }
  return { url: url.origin };
}

/** The API base a token answer (a sign-in's or a refresh's) names for `spec`; undefined where the base is static or the answer names none. */
export function apiBaseOfAnswer(spec: Pick<ProviderSpec, "apiBaseFromAnswer">, answer: Record<string, unknown>): ApiBaseCheck | undefined {
  const rule = spec.apiBaseFromAnswer;
  if (!rule || answer[rule.field] === undefined) return undefined;
  return checkApiBase(answer[rule.field], rule);
}

/**
 * The base the proxy calls for an account: the one stored from its token answers where
 * the provider's base comes from there (checked again: the column is trusted no more
 * than the answer), else the provider's static base.
 */
export function accountApiBase(spec: Pick<ProviderSpec, "apiBaseUrl" | "apiBaseFromAnswer">, stored: string | null): string {
  if (!spec.apiBaseFromAnswer || stored === null) return spec.apiBaseUrl;
  const checked = checkApiBase(stored, spec.apiBaseFromAnswer);
  return "url" in checked ? checked.url : spec.apiBaseUrl;
}

/** The base to store from a check: its URL, or null (keep the stored one) after telling `refused` why it was not taken. */
export function acceptedApiBase(check: ApiBaseCheck | undefined, refused: (reason: string) => void): string | null {
  if (check === undefined) return null;
  if ("url" in check) return check.url;
  refused(check.refused);
  return null;
}
