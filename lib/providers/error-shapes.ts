import type { ErrorClass, ErrorMatcher } from "./error-classes";

// Providers' own shapes of "the grant is gone" and "the app is refused", each onto
// the error classes of lib/providers/error-classes.ts. Pure; table-tested with the
// bodies the providers document (sources in lib/providers/catalogue.ts).

const field = (body: unknown, name: string): unknown => (body !== null && typeof body === "object" ? (body as Record<string, unknown>)[name] : undefined);
const text = (body: unknown, name: string) => {
  const value = field(body, name);
  return typeof value === "string" ? value : "";
};

/** An error code in the body (any field name) mapped to a class; others left to the next matcher. */
export const codeIn =
  (name: string, classes: Record<string, ErrorClass>): ErrorMatcher =>
  ({ body }) =>
    classes[text(body, name)];

/**
 * A refresh token refused under a code that RFC 6749 reserves for something else
 * (X and Zoom say invalid_request, Atlassian a 403 unauthorized_client): the
 * description says it is the token, so the grant is gone.
 */
export const tokenRefusedInDescription: ErrorMatcher = ({ error, body }) => {
  if (error !== "invalid_request" && error !== "unauthorized_client" && error !== "access_denied") return undefined;
  const said = `${text(body, "error_description")} ${text(body, "reason")} ${text(body, "message")}`;
  return /refresh[ _]?token|token (was |is )?invalid|invalid[ _]token|expired or revoked/i.test(said) ? "reauth_required" : undefined;
};

/** Twitch: `{status, message}` with no OAuth `error` (dev.twitch.tv/docs/authentication/refresh-tokens). */
export const twitchStatusMessage: ErrorMatcher = ({ error, body }) => {
  if (error !== undefined || typeof field(body, "status") !== "number") return undefined;
  if (/invalid refresh token/i.test(text(body, "message"))) return "reauth_required";
  return /invalid client|client secret/i.test(text(body, "message")) ? "misconfigured" : undefined;
};

/** Strava: `{message, errors: [{resource, field, code}]}` (developers.strava.com/docs/authentication). */
export const stravaErrors: ErrorMatcher = ({ body }) => {
  const errors = field(body, "errors");
  if (!Array.isArray(errors)) return undefined;
  const resources = errors.map((entry) => text(entry, "resource"));
  if (resources.includes("RefreshToken") || resources.includes("AuthorizationCode")) return "reauth_required";
  return resources.includes("Application") ? "misconfigured" : undefined;
};
