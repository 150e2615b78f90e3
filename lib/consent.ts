import "server-only";
import { hkdfSync, randomBytes, randomUUID } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { AccountRow } from "./db/account-row";
import { invalidRequest, AppError } from "./errors";
import type { ConfiguredProvider } from "./providers/types";

// A consent for ONE account (reconnect, or more scopes) comes back as that account or
// changes nothing (ARCHITECTURE invariant 8). Two short-lived signed values carry it:
// - the consent link, which the app sends its user (a reconnect link) or the
//   dashboard opens: it names the account and the scopes to ask for;
// - the marker cookie, set when the provider's consent starts: Auth.js's signIn
//   callback (auth.ts) refuses any other provider identity while it applies.
// Both are HS256 JWTs (jose) under keys derived from the newest AUTH_SECRET.

export const CONSENT_LINK_TTL_SECONDS = 15 * 60;
const MARKER_TTL_SECONDS = 10 * 60;
export const CONSENT_MARKER_COOKIE = "tokenkeeper.consent";
/** The query parameter of the callback URL that ties a callback to its marker. */
const NONCE_PARAM = "consent";
const LINK_AUDIENCE = "tokenkeeper:consent-link";
const MARKER_AUDIENCE = "tokenkeeper:consent-marker";

const keyFor = (secret: string, purpose: string) => new Uint8Array(hkdfSync("sha256", secret, "", `tokenkeeper ${purpose}`, 32));

/** An HS256 JWT about `subject` for one purpose (its own key and audience), valid `ttlSeconds` from `now`. */
function sign(secret: string, purpose: string, audience: string, subject: string, claims: Record<string, unknown>, ttlSeconds: number, now: Date): Promise<string> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(subject)
    .setAudience(audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .sign(keyFor(secret, purpose));
}

/** What a consent link asks: this account's consent, with these scopes on top of its own. */
export type ConsentLink = { accountId: string; userId: string; scopes: string[] };
/** A verified link: what it asks, its `jti` (each link's own, for single use) and when it expires. */
export type VerifiedConsentLink = ConsentLink & { jti: string; expiresAt: Date };

/**
 * Signs a consent link for `link`, valid CONSENT_LINK_TTL_SECONDS: the URL of
 * GET /api/v1/consent under `origin`, and when it expires (ISO 8601).
 */
export async function signConsentLink(secret: string, origin: string, link: ConsentLink, now = new Date()): Promise<{ url: string; expiresAt: string }> {
  const jwt = await sign(secret, "consent link", LINK_AUDIENCE, link.accountId, { uid: link.userId, scp: link.scopes, jti: randomUUID() }, CONSENT_LINK_TTL_SECONDS, now);
  const url = new URL("/api/v1/consent", origin);
  url.searchParams.set("link", jwt);
  return { url: url.href, expiresAt: new Date((Math.floor(now.getTime() / 1000) + CONSENT_LINK_TTL_SECONDS) * 1000).toISOString() };
}

/** The consent link's claims; 400 invalid_request when it is malformed, forged or expired (the message says which). */
export async function verifyConsentLink(secrets: string[], jwt: string, now = new Date()): Promise<VerifiedConsentLink> {
  const payload = await verifyUnder(secrets, jwt, "consent link", LINK_AUDIENCE, now).catch((error: unknown) => {
    if (error instanceof joseErrors.JWTExpired) throw invalidRequest("This link has expired: ask for a new one.");
    throw invalidRequest("This link is not valid.");
  });
  const scopes = Array.isArray(payload.scp) && payload.scp.every((scope) => typeof scope === "string") ? (payload.scp as string[]) : [];
  if (typeof payload.sub !== "string" || typeof payload.uid !== "string" || typeof payload.jti !== "string" || typeof payload.exp !== "number") throw invalidRequest("This link is not valid.");
  return { accountId: payload.sub, userId: payload.uid, scopes, jti: payload.jti, expiresAt: new Date(payload.exp * 1000) };
}

/** Any of the session secrets (newest first) opens it: a link outlives an AUTH_SECRET rotation. */
async function verifyUnder(secrets: string[], jwt: string, purpose: string, audience: string, now: Date) {
  let last: unknown = new AppError("config", "no session secret");
  for (const secret of secrets) {
    try {
      return (await jwtVerify(jwt, keyFor(secret, purpose), { audience, algorithms: ["HS256"], currentDate: now })).payload;
    } catch (error) {
      last = error;
      if (!(error instanceof joseErrors.JWSSignatureVerificationFailed)) break;
    }
  }
  throw last;
}

/** The provider identity a consent must come back as. */
export type ConsentMarker = { accountId: string; provider: string; providerAccountId: string; identity: string | null; nonce: string };

/**
 * The marker cookie (Set-Cookie value) for a consent starting now, and the callback
 * path that carries its nonce: the marker applies only to a callback whose
 * Auth.js callback URL is that one, so a later ordinary sign-in is never refused.
 */
export async function consentMarker(secret: string, row: AccountRow, secure: boolean, now = new Date()): Promise<{ cookie: string; callbackPath: string }> {
  const nonce = randomBytes(16).toString("base64url");
  const jwt = await sign(secret, "consent marker", MARKER_AUDIENCE, row.id, { pid: row.provider, pai: row.providerAccountId, idn: row.identity, non: nonce }, MARKER_TTL_SECONDS, now);
  const cookie = `${CONSENT_MARKER_COOKIE}=${jwt}; Path=/; Max-Age=${MARKER_TTL_SECONDS}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
  return { cookie, callbackPath: `/dashboard?${NONCE_PARAM}=${nonce}` };
}

const cookieValue = (header: string, name: string) =>
  header
    .split(/;\s*/)
    .find((pair) => pair.startsWith(`${name}=`))
    ?.slice(name.length + 1);

/**
 * The marker that applies to this Auth.js request, or null: only on a callback, only
 * when it verifies, and only when Auth.js's callback-URL cookie carries its nonce
 * (the consent this marker was set for, not a later sign-in).
 */
export async function consentMarkerFor(request: Request, secrets: string[], now = new Date()): Promise<ConsentMarker | null> {
  if (!new URL(request.url).pathname.startsWith("/api/auth/callback/")) return null;
  const cookies = request.headers.get("cookie") ?? "";
  const jwt = cookieValue(cookies, CONSENT_MARKER_COOKIE);
  if (!jwt) return null;
  const payload = await verifyUnder(secrets, jwt, "consent marker", MARKER_AUDIENCE, now).catch(() => null);
  if (!payload || typeof payload.non !== "string" || typeof payload.pid !== "string" || typeof payload.pai !== "string" || typeof payload.sub !== "string") return null;
  const callbackUrl = cookieValue(cookies, "__Secure-authjs.callback-url") ?? cookieValue(cookies, "authjs.callback-url");
  if (!callbackUrl) return null;
  let nonce: string | null = null;
  try {
    nonce = new URL(decodeURIComponent(callbackUrl), "http://local").searchParams.get(NONCE_PARAM);
  } catch {
    return null;
  }
  if (nonce !== payload.non) return null;
  return { accountId: payload.sub, provider: payload.pid, providerAccountId: payload.pai, identity: typeof payload.idn === "string" ? payload.idn : null, nonce };
}

/** The scopes an account's grant carries (the provider's space-separated `scope`). */
export const scopesOf = (row: Pick<AccountRow, "scope">): string[] => (row.scope ? row.scope.split(/\s+/).filter(Boolean) : []);

/**
 * The authorization parameters of a consent for this account: every scope it holds
 * plus `extraScopes`, the provider's "same account, consent again" parameters, and
 * login_hint where the account's identity is an email (Google and OIDC providers
 * take it, OpenID Connect Core §3.1.2.1; Discord ignores it).
 */
export function consentParams(provider: ConfiguredProvider, row: AccountRow, extraScopes: string[]): Record<string, string> {
  const scope = [...new Set([...scopesOf(row), ...extraScopes])].join(" ");
  const params: Record<string, string> = { ...provider.moreScopesParams };
  if (scope) params.scope = scope;
  if (row.identity?.includes("@")) params.login_hint = row.identity;
  return params;
}

/** Where a consent that came back as another identity ends: a page saying so. */
export const CONSENT_REFUSED_PATH = "/api/v1/consent/refused";

/**
 * Auth.js's signIn callback while `marker` applies: true for the account the consent
 * was started for; any other provider identity is refused (the redirect to the
 * refusal page), before Auth.js links or stores anything.
 */
export function sameAccountSignIn(marker: ConsentMarker | null) {
  return ({ account }: { account?: { provider: string; providerAccountId: string } | null }): true | string => {
    if (!marker || !account) return true;
    if (account.provider === marker.provider && account.providerAccountId === marker.providerAccountId) return true;
    return CONSENT_REFUSED_PATH;
  };
}
