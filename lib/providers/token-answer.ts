// A token endpoint's 200 answer as providers really send it, made conformant before
// oauth4webapi reads it. Pure. The point is invariant 3: once a provider has rotated
// the refresh token, its answer is the only place the new one exists, so nothing
// odd elsewhere in the answer may make us throw it away.

/** Beyond this, an expires_in means "never, for our purposes" (and past JS Date's range soon after). */
export const MAX_LIFETIME_SECONDS = 100 * 365 * 86_400;

export type RepairedAnswer = {
  /** The answer, conformant to RFC 6749 §5.1 where it can be. */
  json: Record<string, unknown>;
  /** What was wrong and what we did about it: words for a log line, never a token value. */
  repairs: string[];
  /** A non-empty access token is present. */
  usable: boolean;
  /** refresh_token_expires_in as seconds, when the provider sent a usable one. */
  refreshTokenExpiresIn: number | null;
};

/**
 * Seconds from a number or a numeric string; undefined when absent, unreadable, zero
 * or negative (no provider means "expired on arrival": treating it so would refresh
 * in a loop) or beyond MAX_LIFETIME_SECONDS.
 */
export function lifetimeSeconds(value: unknown): number | undefined {
  const seconds = typeof value === "number" ? value : typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_LIFETIME_SECONDS) return undefined;
  return Math.floor(seconds);
}

/**
 * Repairs a parsed 200 answer of the token endpoint:
 * - no (or an empty) token_type → "bearer" (RFC 6750 is what every provider means);
 * - expires_in as a string → a number; zero, negative, unreadable or over a century →
 *   dropped (no expiry known: the token is used until the API refuses it);
 * - scope as an array, or comma-separated (GitHub, Facebook) → space-separated;
 * - a refresh_token, id_token or access_token that is not a non-empty string → dropped.
 * The ID token is not judged here: the caller drops it if oauth4webapi rejects it.
 */
export function repairTokenAnswer(body: Record<string, unknown>): RepairedAnswer {
  const json = { ...body };
  const repairs: string[] = [];
  const drop = (field: string, why: string) => {
    if (json[field] === undefined) return;
    delete json[field];
    repairs.push(`${field} ${why}: dropped`);
  };
  for (const field of ["access_token", "refresh_token", "id_token"]) {
    if (typeof json[field] !== "string" || (json[field] as string).trim() === "") drop(field, "is not a non-empty string");
  }
  if (typeof json.token_type !== "string" || json.token_type.trim() === "") {
    repairs.push(json.token_type === undefined ? "token_type missing: bearer assumed" : "token_type unreadable: bearer assumed");
    json.token_type = "bearer";
  } else if (!["bearer", "dpop"].includes(json.token_type.trim().toLowerCase())) {
    // RFC 6749 §7.1: a type the client does not understand; every provider we meet means bearer.
    repairs.push(`token_type "${json.token_type.slice(0, 20)}" unknown: bearer assumed`);
    json.token_type = "bearer";
  } else json.token_type = json.token_type.trim();
  if (json.expires_in !== undefined) {
    const seconds = lifetimeSeconds(json.expires_in);
    if (seconds === undefined) drop("expires_in", "is not a usable lifetime (no expiry known)");
    else {
      if (typeof json.expires_in !== "number") repairs.push("expires_in sent as a string");
      json.expires_in = seconds;
    }
  }
  if (Array.isArray(json.scope)) {
    json.scope = json.scope.filter((scope) => typeof scope === "string").join(" ");
    repairs.push("scope sent as an array");
  } else if (typeof json.scope === "string" && json.scope.includes(",")) {
    json.scope = json.scope
      .split(/[\s,]+/)
      .filter(Boolean)
      .join(" ");
    repairs.push("scope comma-separated");
  } else if (json.scope !== undefined && typeof json.scope !== "string") drop("scope", "is neither a string nor an array");
  const refreshTokenExpiresIn = json.refresh_token_expires_in === undefined ? null : (lifetimeSeconds(json.refresh_token_expires_in) ?? null);
  return { json, repairs, usable: typeof json.access_token === "string", refreshTokenExpiresIn };
}
