import { describe, expect, it } from "vitest";
import { decodeProtectedHeader } from "jose";
import { decryptToken, encryptToken, generateKey, keyIdOf, parseKeyring } from "@/lib/tokens/crypto";

describe("token encryption", () => {
  const oldKey = generateKey();
  const newKey = generateKey();

  it("writes JWE compact with dir + A256GCM and a kid, never the plain token", async () => {
    const ciphertext = await encryptToken(parseKeyring(newKey), "plain-access-token");
    expect(ciphertext).not.toContain("plain-access-token");
    expect(ciphertext.split(".")).toHaveLength(5);
    const header = decodeProtectedHeader(ciphertext);
    expect(header).toMatchObject({ alg: "dir", enc: "A256GCM" });
    expect(header.kid).toBe(parseKeyring(newKey).current.kid);
  });

  it("decrypts values written under an older key listed after the newest", async () => {
    const written = await encryptToken(parseKeyring(oldKey), "token-under-old-key");
    const rotated = parseKeyring(`${newKey},${oldKey}`);
    await expect(decryptToken(rotated, written)).resolves.toBe("token-under-old-key");
    expect(keyIdOf(await encryptToken(rotated, "x"))).toBe(rotated.current.kid);
  });

  it("names the variable when the key of a value is gone", async () => {
    const written = await encryptToken(parseKeyring(oldKey), "x");
    await expect(decryptToken(parseKeyring(newKey), written)).rejects.toThrow(/TOKEN_ENCRYPTION_KEYS no longer lists/);
  });

  it("rejects a tampered ciphertext", async () => {
    const keyring = parseKeyring(newKey);
    const parts = (await encryptToken(keyring, "x")).split(".");
    parts[3] = parts[3]!.slice(0, -2) + (parts[3]!.endsWith("AA") ? "BB" : "AA");
    await expect(decryptToken(keyring, parts.join("."))).rejects.toMatchObject({ name: "TokenError", code: "undecryptable" });
  });

  it("rejects a plain value where a ciphertext belongs", async () => {
    await expect(decryptToken(parseKeyring(newKey), "plain")).rejects.toThrow(/not an encrypted value/);
  });

  it("explains a missing or malformed key with the variable name", () => {
    expect(() => parseKeyring(undefined)).toThrow(expect.objectContaining({ code: "config" }));
    expect(() => parseKeyring("")).toThrow(/TOKEN_ENCRYPTION_KEYS is not set/);
    expect(() => parseKeyring(`${newKey},short`)).toThrow(/TOKEN_ENCRYPTION_KEYS key #2 is not 32 bytes/);
  });
});
