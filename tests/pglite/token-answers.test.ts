import { decodeJwt, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { decryptToken, parseKeyring } from "@/lib/tokens/crypto";
import { signInThroughApp, type Fetcher } from "../../testkit/browserless";
import { APP_URL, appFetcher } from "../support/app";
import { epochNow, issueTokens, seedAccount, type SeededAccount, userinfoStatus } from "../../testkit/grants";
import { engineFor, startTestStack, type TestStack } from "../../testkit/stack";

// #18: an answer the provider sent with a new refresh token is never thrown away.
// Each malformed answer is made by the dev provider's tokenResponse hook AFTER the
// real server rotated the refresh token (the old one is spent: reusing it is
// invalid_grant and revokes the grant), and each test then checks that the next
// refresh works, which it can only do with the rotated token stored.
let stack: TestStack;
let fetcher: Fetcher;
let seq = 0;
beforeAll(async () => {
  stack = await startTestStack("pglite");
  fetcher = await appFetcher();
});
afterAll(() => stack?.stop());
beforeEach(() => {
  stack.oidc!.faults.tokenResponse = undefined;
});

const keyring = () => parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS);
const load = (id: string) => stack.db.account.findUniqueOrThrow({ where: { id } });
const storedRefreshToken = async (id: string) => {
  const row = await load(id);
  return decryptToken(keyring(), row.refresh_token!, row, "refresh_token");
};
async function seeded(): Promise<SeededAccount> {
  const login = `answer-${++seq}`;
  return seedAccount(stack.db, stack, login, await issueTokens(stack, login), epochNow() - 10);
}

/**
 * Rewrites the next refresh answer with `rewrite`, after the provider rotated; hands
 * back the refresh token it had issued in that answer.
 */
function rewriteNextRefresh(rewrite: (body: Record<string, unknown>) => Record<string, unknown>) {
  const issued: { refreshToken?: string } = {};
  stack.oidc!.faults.tokenResponse = (body, request) => {
    if (request.grantType !== "refresh_token" || issued.refreshToken) return body;
    issued.refreshToken = body.refresh_token as string;
    return rewrite(body);
  };
  return issued;
}

/** The refresh after the malformed one: the stored (rotated) refresh token must still work. */
async function nextRefreshWorks(account: SeededAccount) {
  stack.oidc!.faults.tokenResponse = undefined;
  const invalidGrants = stack.oidc!.stats.invalidGrants;
  await stack.db.account.update({ where: { id: account.accountId }, data: { expires_at: epochNow() - 10, retryAfter: null } });
  const token = await engineFor(stack).getAccessToken(account.userId, "oidc");
  expect(await userinfoStatus(stack, token)).toBe(200);
  expect(stack.oidc!.stats.invalidGrants).toBe(invalidGrants);
  expect(await load(account.accountId)).toMatchObject({ status: "active", failureCount: 0 });
}

/** A copy of the provider's ID token for another audience, signed by someone else: fails validation. */
async function forgedIdToken(idToken: string): Promise<string> {
  const { privateKey } = await generateKeyPair("RS256");
  return new SignJWT({ ...decodeJwt(idToken), aud: "another-client" }).setProtectedHeader({ alg: "RS256", kid: "forged" }).sign(privateKey);
}

const YEAR_S = 365 * 86_400;
const malformed: [string, (body: Record<string, unknown>) => Record<string, unknown>, (row: Awaited<ReturnType<typeof load>>) => void][] = [
  ["no token_type", ({ token_type: _, ...body }) => body, (row) => expect(row.token_type).toBe("bearer")],
  ["expires_in as a string", (body) => ({ ...body, expires_in: String(body.expires_in) }), (row) => expect(Number(row.expires_at)).toBeGreaterThan(epochNow() + 60)],
  ["expires_in zero", (body) => ({ ...body, expires_in: 0 }), (row) => expect(row.expires_at).toBeNull()],
  ["expires_in negative", (body) => ({ ...body, expires_in: -3600 }), (row) => expect(row.expires_at).toBeNull()],
  ["no expires_in", ({ expires_in: _, ...body }) => body, (row) => expect(row.expires_at).toBeNull()],
  // Past 2038: a 32-bit expires_at overflowed and the write (with the rotated token) failed.
  ["expires_in of 20 years", (body) => ({ ...body, expires_in: 20 * YEAR_S }), (row) => expect(Number(row.expires_at)).toBeGreaterThan(2 ** 31)],
  ["scope as an array", (body) => ({ ...body, scope: String(body.scope).split(" ") }), (row) => expect(row.scope).toMatch(/^openid( \S+)+$/)],
  ["scope comma-separated", (body) => ({ ...body, scope: String(body.scope).split(" ").join(",") }), (row) => expect(row.scope).toMatch(/^openid( \S+)+$/)],
];

describe("a refresh answer as providers really send it (#18)", () => {
  it.each(malformed)("stores the rotated refresh token from an answer with %s, and the next refresh works", async (_label, rewrite, check) => {
    const account = await seeded();
    const issued = rewriteNextRefresh(rewrite);
    const token = await engineFor(stack).getAccessToken(account.userId, "oidc");
    expect(await userinfoStatus(stack, token)).toBe(200);
    expect(issued.refreshToken).toBeDefined();
    expect(await storedRefreshToken(account.accountId)).toBe(issued.refreshToken);
    check(await load(account.accountId));
    await nextRefreshWorks(account);
  });

  it("drops an ID token that fails validation on a refresh, and the refresh stands", async () => {
    const account = await seeded();
    const before = await load(account.accountId);
    const forged = await forgedIdToken(account.tokens.idToken!);
    const issued = rewriteNextRefresh((body) => ({ ...body, id_token: forged }));
    const token = await engineFor(stack).getAccessToken(account.userId, "oidc");
    expect(await userinfoStatus(stack, token)).toBe(200);
    expect(await storedRefreshToken(account.accountId)).toBe(issued.refreshToken);
    const row = await load(account.accountId);
    expect(row.id_token).toBe(before.id_token); // the one that validated at sign-in stays
    expect(await decryptToken(keyring(), row.id_token!, row, "id_token")).not.toBe(forged);
    await nextRefreshWorks(account);
  });

  it("fails an answer with no access token, but stores its rotated refresh token, and the next refresh works", async () => {
    const account = await seeded();
    const issued = rewriteNextRefresh(({ access_token: _, ...body }) => body);
    const error = await engineFor(stack)
      .getAccessToken(account.userId, "oidc")
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "provider_rejected", status: 502 });
    expect(await storedRefreshToken(account.accountId)).toBe(issued.refreshToken);
    const row = await load(account.accountId);
    expect(row).toMatchObject({ status: "active", failureCount: 1, leaseOwner: null });
    expect(row.lastError).toMatch(/without a usable access token/);
    await nextRefreshWorks(account);
  });
});

describe("expiry instants past 2038 at sign-in (#18)", () => {
  it("links an account whose first tokens live 20 years, and stores the same on a later sign-in", async () => {
    stack.oidc!.faults.tokenResponse = (body, request) => (request.grantType === "authorization_code" ? { ...body, expires_in: 20 * YEAR_S } : body);
    await signInThroughApp(APP_URL, "decades-user", fetcher);
    const first = await stack.db.account.findUniqueOrThrow({ where: { provider_providerAccountId: { provider: "oidc", providerAccountId: "decades-user" } } });
    expect(Number(first.expires_at)).toBeGreaterThan(2 ** 31);
    await signInThroughApp(APP_URL, "decades-user", fetcher);
    const again = await load(first.id);
    expect(again.tokenVersion).toBeGreaterThan(first.tokenVersion);
    expect(Number(again.expires_at)).toBeGreaterThan(2 ** 31);
    // Prisma hands the BIGINT out as a bigint, through the Neon HTTP adapter and raw queries alike.
    expect(typeof again.expires_at).toBe("bigint");
    const [raw] = await stack.db.$queryRaw<{ expires_at: unknown }[]>`SELECT expires_at FROM "Account" WHERE id = ${first.id}`;
    expect(raw!.expires_at).toBe(again.expires_at);
  });
});
