import { describe, expect, it } from "vitest";
import { CompactEncrypt, decodeProtectedHeader } from "jose";
import { decryptToken, encryptToken, generateKey, keyIdOf, needsReencryption, parseKeyring, type TokenSlot } from "@/lib/tokens/crypto";

const ada: TokenSlot = { provider: "oidc", providerAccountId: "ada" };
const grace: TokenSlot = { provider: "oidc", providerAccountId: "grace" };

describe("token encryption", () => {
  const oldKey = generateKey();
  const newKey = generateKey();

  it("writes JWE compact with dir + A256GCM and a kid, never the plain token", async () => {
    const ciphertext = await encryptToken(parseKeyring(newKey), "plain-access-token", ada, "access_token");
    expect(ciphertext).not.toContain("plain-access-token");
    expect(ciphertext.split(".")).toHaveLength(5);
    const header = decodeProtectedHeader(ciphertext);
    expect(header).toMatchObject({ alg: "dir", enc: "A256GCM" });
    expect(header.kid).toBe(parseKeyring(newKey).current.kid);
    expect(JSON.stringify(header)).not.toContain("ada");
  });

  it("decrypts values written under an older key listed after the newest", async () => {
    const written = await encryptToken(parseKeyring(oldKey), "token-under-old-key", ada, "refresh_token");
    const rotated = parseKeyring(`${newKey},${oldKey}`);
    await expect(decryptToken(rotated, written, ada, "refresh_token")).resolves.toBe("token-under-old-key");
    expect(keyIdOf(await encryptToken(rotated, "x", ada, "refresh_token"))).toBe(rotated.current.kid);
    expect(needsReencryption(rotated, written)).toBe(true);
  });

  it("names the variable when the key of a value is gone", async () => {
    const written = await encryptToken(parseKeyring(oldKey), "x", ada, "access_token");
    await expect(decryptToken(parseKeyring(newKey), written, ada, "access_token")).rejects.toThrow(/TOKEN_ENCRYPTION_KEYS no longer lists/);
  });

  it("rejects a tampered ciphertext", async () => {
    const keyring = parseKeyring(newKey);
    const parts = (await encryptToken(keyring, "x", ada, "access_token")).split(".");
    parts[3] = parts[3]!.slice(0, -2) + (parts[3]!.endsWith("AA") ? "BB" : "AA");
    await expect(decryptToken(keyring, parts.join("."), ada, "access_token")).rejects.toMatchObject({ name: "AppError", code: "undecryptable" });
  });

  it("refuses a ciphertext copied into another account's row or another column (#11)", async () => {
    const keyring = parseKeyring(newKey);
    const adas = await encryptToken(keyring, "ada-refresh-token", ada, "refresh_token");
    await expect(decryptToken(keyring, adas, grace, "refresh_token")).rejects.toThrow(/belongs to another account or column/);
    await expect(decryptToken(keyring, adas, ada, "access_token")).rejects.toThrow(/belongs to another account or column/);
    await expect(decryptToken(keyring, adas, ada, "refresh_token")).resolves.toBe("ada-refresh-token");
  });

  it("cannot be re-bound by editing the header: the header is authenticated", async () => {
    const keyring = parseKeyring(newKey);
    const adas = await encryptToken(keyring, "ada-refresh-token", ada, "refresh_token");
    const graces = await encryptToken(keyring, "x", grace, "refresh_token");
    const forged = [graces.split(".")[0], ...adas.split(".").slice(1)].join(".");
    await expect(decryptToken(keyring, forged, grace, "refresh_token")).rejects.toThrow(/does not decrypt/);
  });

  it("still reads a token written before slots were bound, and marks it for re-encryption", async () => {
    const keyring = parseKeyring(newKey);
    const legacy = await new CompactEncrypt(new TextEncoder().encode("legacy")).setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: keyring.current.kid }).encrypt(keyring.current.secret);
    await expect(decryptToken(keyring, legacy, ada, "access_token")).resolves.toBe("legacy");
    expect(needsReencryption(keyring, legacy)).toBe(true);
    expect(needsReencryption(keyring, await encryptToken(keyring, "new", ada, "access_token"))).toBe(false);
  });

  it("rejects a plain value where a ciphertext belongs", async () => {
    await expect(decryptToken(parseKeyring(newKey), "plain", ada, "access_token")).rejects.toThrow(/not an encrypted value/);
  });

  it("explains a missing or malformed key with the variable name", () => {
    expect(() => parseKeyring(undefined)).toThrow(expect.objectContaining({ code: "config" }));
    expect(() => parseKeyring("")).toThrow(/TOKEN_ENCRYPTION_KEYS is not set/);
    expect(() => parseKeyring(`${newKey},short`)).toThrow(/TOKEN_ENCRYPTION_KEYS key #2 is not 32 bytes of canonical base64url/);
  });

  it.each([
    ["padding", `${generateKey()}=`],
    ["standard base64 characters", generateKey().replace(/^./, "+")],
    ["a stray character Node would skip", `${generateKey().slice(0, 21)}!${generateKey().slice(21, 42)}`],
    ["non-zero trailing bits", `${generateKey().slice(0, 42)}B`],
  ])("refuses a key that is not canonical base64url: %s (#11)", (_label, key) => {
    expect(() => parseKeyring(key)).toThrow(/canonical base64url/);
  });
});
