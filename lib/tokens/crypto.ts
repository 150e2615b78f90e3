import "server-only";
import { createHash } from "node:crypto";
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from "jose";
import { env } from "../env";
import { configError, TokenError } from "../errors";

// Tokens at rest are JWE compact strings (dir + A256GCM). The kid names the key, so
// TOKEN_ENCRYPTION_KEYS can list new keys first and keep old ones for decryption.

/** `fingerprint` names the whole list of keys: it changes when any key is added or dropped. */
export type Keyring = { current: Key; byKid: Map<string, Key>; fingerprint: string };
type Key = { kid: string; secret: Uint8Array };

const VARIABLE = "TOKEN_ENCRYPTION_KEYS";

/** Parses "key1,key2" (base64url, 32 bytes each, newest first). */
export function parseKeyring(value: string | undefined): Keyring {
  if (!value?.trim()) throw configError(`${VARIABLE} is not set: generate one with \`npm run keygen\`.`);
  const keys = value.split(",").map((text, index) => {
    const secret = Buffer.from(text.trim(), "base64url");
    if (secret.length !== 32) {
      throw configError(`${VARIABLE} key #${index + 1} is not 32 bytes of base64url: generate one with \`npm run keygen\`.`);
    }
    // A short hash names the key without revealing it.
    const kid = createHash("sha256").update(secret).digest("base64url").slice(0, 12);
    return { kid, secret: new Uint8Array(secret) };
  });
  const fingerprint = createHash("sha256").update(keys.map((key) => key.kid).join(",")).digest("base64url").slice(0, 12);
  return { current: keys[0]!, byKid: new Map(keys.map((key) => [key.kid, key])), fingerprint };
}

export function generateKey(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
}

/** A stored token that the configured keys cannot open: a configuration problem. */
const undecryptable = (message: string, cause?: unknown) => new TokenError("undecryptable", message, { cause });

export async function encryptToken(keyring: Keyring, plaintext: string): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: keyring.current.kid })
    .encrypt(keyring.current.secret);
}

export function keyIdOf(ciphertext: string): string | undefined {
  try {
    return decodeProtectedHeader(ciphertext).kid;
  } catch {
    return undefined;
  }
}

export async function decryptToken(keyring: Keyring, ciphertext: string): Promise<string> {
  const kid = keyIdOf(ciphertext);
  if (kid === undefined) throw undecryptable("stored token is not an encrypted value (JWE)");
  const key = keyring.byKid.get(kid);
  if (!key) throw undecryptable(`stored token was encrypted with key ${kid}, which ${VARIABLE} no longer lists`);
  try {
    const { plaintext } = await compactDecrypt(ciphertext, key.secret, { keyManagementAlgorithms: ["dir"], contentEncryptionAlgorithms: ["A256GCM"] });
    return new TextDecoder().decode(plaintext);
  } catch (cause) {
    throw undecryptable(`stored token does not decrypt with key ${kid} of ${VARIABLE}`, cause);
  }
}

export async function encryptOptional(keyring: Keyring, value: string | null | undefined): Promise<string | null> {
  return value ? encryptToken(keyring, value) : null;
}

export async function decryptOptional(keyring: Keyring, value: string | null | undefined): Promise<string | null> {
  return value ? decryptToken(keyring, value) : null;
}

let cached: Keyring | undefined;

/** The keyring from TOKEN_ENCRYPTION_KEYS (env() is read once, so this is parsed once). */
export function keyring(): Keyring {
  cached ??= parseKeyring(env().TOKEN_ENCRYPTION_KEYS);
  return cached;
}
