import "server-only";
import { createHash } from "node:crypto";
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from "jose";
import { configError, AppError } from "../errors";

// Tokens at rest are JWE compact strings (dir + A256GCM). The kid names the key, so
// TOKEN_ENCRYPTION_KEYS can list new keys first and keep old ones for decryption.
// The protected header (authenticated with the ciphertext) also names the slot a
// token belongs to, so a ciphertext copied into another row or column does not open.

/** `fingerprint` names the whole list of keys: it changes when any key is added or dropped. */
export type Keyring = { current: Key; byKid: Map<string, Key>; fingerprint: string };
type Key = { kid: string; secret: Uint8Array; cryptoKey: Promise<CryptoKey> };

/** Where a token lives: its account (by the provider's own id for it) and column. */
export type TokenSlot = { provider: string; providerAccountId: string };
export type TokenColumn = "access_token" | "refresh_token" | "id_token";

const VARIABLE = "TOKEN_ENCRYPTION_KEYS";
const CANONICAL_KEY = /^[A-Za-z0-9_-]{43}$/;

/** Parses "key1,key2" (base64url, 32 bytes each, newest first). */
export function parseKeyring(value: string | undefined): Keyring {
  if (!value?.trim()) throw configError(`${VARIABLE} is not set: generate one with \`npm run keygen\`.`);
  const keys = value.split(",").map((raw, index) => {
    const text = raw.trim();
    const secret = Buffer.from(text, "base64url");
    // Node decodes loosely (padding, stray characters): accept only what encodes back to itself.
    if (!CANONICAL_KEY.test(text) || secret.length !== 32 || secret.toString("base64url") !== text) {
      throw configError(`${VARIABLE} key #${index + 1} is not 32 bytes of canonical base64url (43 characters): generate one with \`npm run keygen\`.`);
    }
    // A short hash names the key without revealing it.
    const kid = createHash("sha256").update(secret).digest("base64url").slice(0, 12);
    const bytes = new Uint8Array(secret);
    // Imported once per process, not on every encryption.
    const cryptoKey = crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]);
    return { kid, secret: bytes, cryptoKey };
  });
  const fingerprint = createHash("sha256")
    .update(keys.map((key) => key.kid).join(","))
    .digest("base64url")
    .slice(0, 12);
  return { current: keys[0]!, byKid: new Map(keys.map((key) => [key.kid, key])), fingerprint };
}

export function generateKey(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/** A stored token that the configured keys cannot open: a configuration problem. */
const undecryptable = (message: string, cause?: unknown) => new AppError("undecryptable", message, { cause });

/** The slot's name in the header: a hash, so the header repeats no account id. */
function binding(slot: TokenSlot, column: TokenColumn): string {
  return createHash("sha256").update(`${slot.provider}\n${slot.providerAccountId}\n${column}`).digest("base64url").slice(0, 22);
}

export async function encryptToken(keyring: Keyring, plaintext: string, slot: TokenSlot, column: TokenColumn): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: keyring.current.kid, bnd: binding(slot, column) })
    .encrypt(await keyring.current.cryptoKey);
}

function headerOf(ciphertext: string): { kid?: string; bnd?: unknown } | undefined {
  try {
    return decodeProtectedHeader(ciphertext);
  } catch {
    return undefined;
  }
}

/**
 * Whether a stored value is in Tokenkeeper's sealed form (a compact JWE, `dir` +
 * `A256GCM`, with a kid) rather than a token in plain text, as Auth.js's own adapters
 * store them. A provider's JWT (an ID token: a JWS, three parts) is plain text here,
 * though its header may carry a kid too.
 */
export function isSealed(value: string): boolean {
  if (value.split(".").length !== 5) return false;
  const header = headerOf(value) as { alg?: unknown; enc?: unknown; kid?: unknown } | undefined;
  return header?.alg === "dir" && header.enc === "A256GCM" && typeof header.kid === "string";
}

export const keyIdOf = (ciphertext: string): string | undefined => headerOf(ciphertext)?.kid;

/** Not under the newest key, or from before tokens were bound to their slot: re-encryption rewrites it. */
export function needsReencryption(keyring: Keyring, ciphertext: string): boolean {
  const header = headerOf(ciphertext);
  return header?.kid !== keyring.current.kid || header.bnd === undefined;
}

export async function decryptToken(keyring: Keyring, ciphertext: string, slot: TokenSlot, column: TokenColumn): Promise<string> {
  const header = headerOf(ciphertext);
  if (header?.kid === undefined) throw undecryptable("stored token is not an encrypted value (JWE)");
  const key = keyring.byKid.get(header.kid);
  if (!key) throw undecryptable(`stored token was encrypted with key ${header.kid}, which ${VARIABLE} no longer lists`);
  // Tokens written before slots were bound carry none; `npm run tokens:reencrypt` binds them.
  if (header.bnd !== undefined && header.bnd !== binding(slot, column)) {
    throw undecryptable(`stored ${column} belongs to another account or column: it was copied, not written here`);
  }
  try {
    const { plaintext } = await compactDecrypt(ciphertext, await key.cryptoKey, { keyManagementAlgorithms: ["dir"], contentEncryptionAlgorithms: ["A256GCM"] });
    return new TextDecoder().decode(plaintext);
  } catch (cause) {
    throw undecryptable(`stored token does not decrypt with key ${header.kid} of ${VARIABLE}`, cause);
  }
}

export async function encryptOptional(keyring: Keyring, value: string | null | undefined, slot: TokenSlot, column: TokenColumn): Promise<string | null> {
  return value ? encryptToken(keyring, value, slot, column) : null;
}

export async function decryptOptional(keyring: Keyring, value: string | null | undefined, slot: TokenSlot, column: TokenColumn): Promise<string | null> {
  return value ? decryptToken(keyring, value, slot, column) : null;
}
