import { base64url, calculateJwkThumbprint, EncryptJWT, jwtDecrypt, UnsecuredJWT, type JWTPayload } from "jose";

// The edge gate's whole job: is there a valid Auth.js session cookie, and should it
// be re-issued? It decodes exactly as Auth.js's own decode (@auth/core/jwt: JWE
// dir + A256CBC-HS512 under a key derived from the secret with HKDF, 15 s clock
// tolerance), but derives each key once per isolate instead of on every request,
// and opens each cookie once per isolate (see `opened`).
// A tampered, expired or foreign-secret cookie is signed out, never an error.
//
// This module owns Auth.js's cookie format on our side: the cookie names, the JWE
// algorithm, the HKDF salt and info, the clock tolerance, the rolling renewal. That
// format is Auth.js's, not a public contract, so next-auth is pinned to an exact
// version (package.json) and tests/edge/middleware.test.ts decides every kind of
// cookie here and with NextAuth(authConfig).auth in workerd, and requires the same
// verdict: an upgrade that changes the format fails that suite before it ships.

/** Auth.js's defaults, set explicitly in auth.config.ts so the two never drift. */
export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;
export const SESSION_UPDATE_AGE_SECONDS = 24 * 60 * 60;

const ENC = "A256CBC-HS512";

/**
 * The session secrets, newest first: AUTH_SECRET seals new sessions; AUTH_SECRET_1..3
 * are older secrets still accepted while rotating. Auth.js and the middleware both
 * take this one list (auth.ts passes it as `secret`).
 */
export function sessionSecretList(env: Record<string, string | undefined>): string[] {
  return [env.AUTH_SECRET, env.AUTH_SECRET_1, env.AUTH_SECRET_2, env.AUTH_SECRET_3].filter((s): s is string => Boolean(s));
}

/** sessionSecretList, refusing an empty one: a gate with no secret would sign everyone out silently. */
export function sessionSecrets(env: Record<string, string | undefined>): string[] {
  const secrets = sessionSecretList(env);
  if (secrets.length === 0) throw new Error("AUTH_SECRET is not set: sessions cannot be checked.");
  return secrets;
}

export const sessionCookieName = (secure: boolean) => `${secure ? "__Secure-" : ""}authjs.session-token`;

type DerivedKey = { key: Uint8Array; kid: string };
const derivedKeys = new Map<string, Promise<DerivedKey>>();

/** HKDF as Auth.js derives it, cached for the life of the isolate. */
function derive(enc: string, secret: string, salt: string): Promise<DerivedKey> {
  const cacheKey = `${enc}\u0000${salt}\u0000${secret}`;
  let pending = derivedKeys.get(cacheKey);
  if (!pending) {
    pending = (async () => {
      const length = enc === "A256GCM" ? 32 : 64;
      const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), "HKDF", false, ["deriveBits"]);
      const bits = await crypto.subtle.deriveBits(
        { name: "HKDF", hash: "SHA-256", salt: new TextEncoder().encode(salt), info: new TextEncoder().encode(`Auth.js Generated Encryption Key (${salt})`) },
        material,
        length * 8,
      );
      const key = new Uint8Array(bits);
      return { key, kid: await calculateJwkThumbprint({ kty: "oct", k: base64url.encode(key) }, length === 32 ? "sha256" : "sha512") };
    })();
    derivedKeys.set(cacheKey, pending);
  }
  return pending;
}

// Cookies this isolate has opened, least recently used first. A browser sends the same
// cookie on every request until the session rolls (a day), so most checks find it
// here and skip decryption: jose's A256CBC-HS512 path takes only raw key bytes and
// imports both keys, and makes an HMAC key to compare tags, on every call (#23), and
// reusing CryptoKeys would mean composing AES-CBC and HMAC by hand. Decryption is a
// function of the cookie and the secrets alone, so its result is reused; the claims
// that depend on the clock (exp, nbf, with Auth.js's 15 s tolerance) are checked again
// on every request by jose's own claim validation. Failures are never stored.
const OPENED_MAX = 1_000;
/** A cookie's session, and which secret opened it (its index). */
type Session = { payload: JWTPayload; opener: number };
type Opened = Session & { secrets: string };
const opened = new Map<string, Opened>();
const CLOCK_TOLERANCE_SECONDS = 15;

/** jose's claim checks on an already decrypted payload (the same code jwtDecrypt runs after decrypting). */
function claimsHold(payload: JWTPayload, now: number): boolean {
  try {
    UnsecuredJWT.decode(new UnsecuredJWT(payload).encode(), { clockTolerance: CLOCK_TOLERANCE_SECONDS, currentDate: new Date(now) });
    return true;
  } catch {
    return false;
  }
}

/** The session cookie's value, joined from Auth.js's chunks (name.0, name.1, …) when it split it. */
function readCookie(header: string | null, name: string): { value: string; chunked: boolean } | null {
  const parts = new Map<string, string>();
  for (const pair of (header ?? "").split(";")) {
    const index = pair.indexOf("=");
    if (index < 0) continue;
    const key = pair.slice(0, index).trim();
    if (key.startsWith(name)) parts.set(key, pair.slice(index + 1).trim());
  }
  if (parts.size === 0) return null;
  const suffix = (key: string) => Number.parseInt(key.split(".").pop() ?? "", 10) || 0;
  const value = [...parts.keys()]
    .sort((a, b) => suffix(a) - suffix(b))
    .map((key) => parts.get(key))
    .join("");
  return { value, chunked: parts.size > 1 };
}

export type SessionCheck = {
  signedIn: boolean;
  /** A Set-Cookie value to send back: the same session, sealed anew (rolling sessions). */
  renewal?: string;
};

/**
 * Decodes the request's session cookie. Re-issues it, as Auth.js would, once it is
 * older than SESSION_UPDATE_AGE_SECONDS, and at once when an older secret opened it
 * (so a rotation moves active users to the new secret).
 */
export async function checkSession(request: Request, secrets: string[], now = Date.now()): Promise<SessionCheck> {
  // request.url is serialized: its scheme is lower-case.
  const secure = request.url.startsWith("https:");
  const name = sessionCookieName(secure);
  const cookie = readCookie(request.headers.get("cookie"), name);
  if (!cookie) return { signedIn: false };
  const memoKey = `${name}=${cookie.value}`;
  const secretList = secrets.join("\u0000");
  const known = opened.get(memoKey);
  let session: Session | null;
  if (known && known.secrets === secretList) {
    opened.delete(memoKey);
    opened.set(memoKey, known);
    session = claimsHold(known.payload, now) ? known : null;
  } else {
    session = await open(cookie.value, name, secrets, now);
    if (session) {
      opened.set(memoKey, { ...session, secrets: secretList });
      if (opened.size > OPENED_MAX) opened.delete(opened.keys().next().value!);
    }
  }
  if (!session) return { signedIn: false };
  const { payload, opener } = session;
  if (typeof payload.sub !== "string") return { signedIn: false };
  const age = now / 1000 - (typeof payload.iat === "number" ? payload.iat : 0);
  // A chunked cookie is re-issued by Auth.js itself (it writes the chunks).
  if (cookie.chunked || (opener === 0 && age < SESSION_UPDATE_AGE_SECONDS)) return { signedIn: true };
  return { signedIn: true, renewal: await reseal(payload, secrets[0]!, name, secure, now) };
}

/** Decrypts and validates the cookie as Auth.js's decode does; null when it does not open. */
async function open(value: string, name: string, secrets: string[], now: number): Promise<Session | null> {
  let opener = -1;
  try {
    const { payload } = await jwtDecrypt(
      value,
      async ({ kid, enc }) => {
        for (const [index, secret] of secrets.entries()) {
          const derived = await derive(enc as string, secret, name);
          if (kid === undefined || kid === derived.kid) {
            opener = index;
            return derived.key;
          }
        }
        throw new Error("no matching decryption secret");
      },
      { clockTolerance: CLOCK_TOLERANCE_SECONDS, keyManagementAlgorithms: ["dir"], contentEncryptionAlgorithms: [ENC, "A256GCM"], currentDate: new Date(now) },
    );
    return { payload, opener };
  } catch {
    return null;
  }
}

/** The session sealed as Auth.js's encode does: newest secret, new iat, exp and jti. */
async function reseal(payload: Record<string, unknown>, secret: string, name: string, secure: boolean, now: number): Promise<string> {
  const { iat: _iat, exp: _exp, jti: _jti, ...claims } = payload;
  const { key, kid } = await derive(ENC, secret, name);
  const issuedAt = Math.floor(now / 1000);
  const expires = issuedAt + SESSION_MAX_AGE_SECONDS;
  const value = await new EncryptJWT(claims).setProtectedHeader({ alg: "dir", enc: ENC, kid }).setIssuedAt(issuedAt).setExpirationTime(expires).setJti(crypto.randomUUID()).encrypt(key);
  const attributes = [`${name}=${value}`, "Path=/", `Expires=${new Date(expires * 1000).toUTCString()}`, "HttpOnly", "SameSite=Lax"];
  if (secure) attributes.push("Secure");
  return attributes.join("; ");
}
