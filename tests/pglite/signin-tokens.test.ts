import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptToken, keyIdOf, parseKeyring } from "@/lib/tokens/crypto";
import { reencryptAll } from "@/lib/tokens/reencrypt";
import { clearUserTokens } from "@/lib/db/accounts";
import { signInThroughApp, type Fetcher } from "../../testkit/browserless";
import { APP_URL, appFetcher, signOutThroughApp } from "../support/app";
import { userinfoStatus } from "../../testkit/grants";
import { restartApp, startTestStack, type TestStack } from "../../testkit/stack";

// Sign-in and sign-out through Auth.js's real callback path against the real dev
// provider; assertions read the Account row straight from the database.
let stack: TestStack;
let fetcher: Fetcher;
beforeAll(async () => {
  stack = await startTestStack("pglite");
  fetcher = await appFetcher();
});
afterAll(() => stack?.stop());

const keyring = () => parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS);
const row = (login: string) => stack.db.account.findUniqueOrThrow({ where: { provider_providerAccountId: { provider: "oidc", providerAccountId: login } } });
const plain = async (login: string) => {
  const account = await row(login);
  return {
    account,
    accessToken: await decryptToken(keyring(), account.access_token!, account, "access_token"),
    refreshToken: await decryptToken(keyring(), account.refresh_token!, account, "refresh_token"),
  };
};

describe("sign-in", () => {
  it("links the account on first sign-in and stores its tokens encrypted", async () => {
    await signInThroughApp(APP_URL, "first-user", fetcher);
    const { account, accessToken, refreshToken } = await plain("first-user");
    expect(await userinfoStatus(stack, accessToken)).toBe(200); // a real, working token
    expect(account).toMatchObject({ status: "active", type: "oidc" });
    expect(account.expires_at).toBeGreaterThan(Date.now() / 1000);
    // The raw row holds no issued token in plain text.
    const raw = JSON.stringify((await stack.backend.query({ query: `SELECT * FROM "Account" WHERE id = $1`, params: [account.id] })).rows);
    expect(raw).not.toContain(accessToken);
    expect(raw).not.toContain(refreshToken);
    for (const field of [account.access_token, account.refresh_token, account.id_token]) expect(keyIdOf(field!)).toBe(keyring().current.kid);
  });

  it("stores the new tokens on every later sign-in (Auth.js alone never does)", async () => {
    await signInThroughApp(APP_URL, "repeat-user", fetcher);
    const before = await plain("repeat-user");
    await signInThroughApp(APP_URL, "repeat-user", fetcher);
    const after = await plain("repeat-user");
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.account.tokenVersion).toBeGreaterThan(before.account.tokenVersion);
    expect(await userinfoStatus(stack, after.accessToken)).toBe(200);
  });

  it("keeps the stored refresh token when the provider sends none", async () => {
    await signInThroughApp(APP_URL, "no-rt-user", fetcher);
    const before = await plain("no-rt-user");
    stack.oidc!.faults.tokenResponse = (body, request) => {
      if (request.grantType === "authorization_code") delete body.refresh_token;
      return body;
    };
    try {
      await signInThroughApp(APP_URL, "no-rt-user", fetcher);
    } finally {
      stack.oidc!.faults.tokenResponse = undefined;
    }
    const after = await plain("no-rt-user");
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).toBe(before.refreshToken);
  });

  it("clears the reauth state of an account on a new sign-in", async () => {
    await signInThroughApp(APP_URL, "reauth-user", fetcher);
    await stack.db.account.updateMany({ where: { providerAccountId: "reauth-user" }, data: { status: "reauth_required", failureCount: 3, lastError: "invalid_grant" } });
    await signInThroughApp(APP_URL, "reauth-user", fetcher);
    expect(await row("reauth-user")).toMatchObject({ status: "active", failureCount: 0, lastError: null });
  });
});

describe("a sign-in that fails half-way (#11)", () => {
  it("leaves no orphan user behind, so the next sign-in links the account", async () => {
    // A real database error while Auth.js links the account, after it created the user.
    await stack.backend.exec(`
      CREATE FUNCTION refuse_account() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected by the test'; END $$;
      CREATE TRIGGER refuse_account BEFORE INSERT ON "Account" FOR EACH ROW EXECUTE FUNCTION refuse_account();`);
    try {
      await expect(signInThroughApp(APP_URL, "half-way", fetcher)).rejects.toThrow(/sign-in failed/);
    } finally {
      await stack.backend.exec(`DROP TRIGGER refuse_account ON "Account"; DROP FUNCTION refuse_account();`);
    }
    expect(await stack.db.user.count({ where: { email: "half-way@dev.tokenkeeper.test" } })).toBe(0);
    await signInThroughApp(APP_URL, "half-way", fetcher);
    expect(await row("half-way")).toMatchObject({ status: "active" });
  });

  it("does not let an orphan left earlier block the sign-in", async () => {
    await stack.db.user.create({ data: { name: "stale", email: "stale-orphan@dev.tokenkeeper.test" } });
    await signInThroughApp(APP_URL, "stale-orphan", fetcher);
    const account = await row("stale-orphan");
    expect(await stack.db.user.findUniqueOrThrow({ where: { id: account.userId } })).toMatchObject({ email: "stale-orphan@dev.tokenkeeper.test" });
  });
});

describe("sign-out", () => {
  it("clears the user's tokens, and a second sign-out is harmless", async () => {
    const agent = await signInThroughApp(APP_URL, "leaving-user", fetcher);
    const session = async () => (await agent.request(`${APP_URL}/api/auth/session`)).json();
    expect(await session()).toMatchObject({ user: { name: "leaving-user" } });
    const response = await signOutThroughApp(agent);
    expect(response.status).toBe(302);
    expect(await row("leaving-user")).toMatchObject({ status: "signed_out", access_token: null, refresh_token: null, id_token: null, expires_at: null });
    // The session cookie is gone; signing out again (no session) changes nothing.
    expect(await session()).toBeNull();
    expect((await signOutThroughApp(agent)).status).toBe(302);
    expect(await clearUserTokens(stack.db, (await row("leaving-user")).userId)).toBe(1);
    expect(await row("leaving-user")).toMatchObject({ status: "signed_out", access_token: null });
  });

  it("keeps every account's tokens when TOKENKEEPER_SIGN_OUT=keep (#22)", async () => {
    const agent = await signInThroughApp(APP_URL, "staying-user", fetcher);
    const before = await plain("staying-user");
    process.env.TOKENKEEPER_SIGN_OUT = "keep";
    try {
      expect((await signOutThroughApp(agent)).status).toBe(302);
    } finally {
      delete process.env.TOKENKEEPER_SIGN_OUT;
    }
    expect(await (await agent.request(`${APP_URL}/api/auth/session`)).json()).toBeNull();
    const after = await plain("staying-user");
    expect(after.account).toMatchObject({ status: "active", tokenVersion: before.account.tokenVersion });
    expect(after.refreshToken).toBe(before.refreshToken);
    expect(await userinfoStatus(stack, after.accessToken)).toBe(200);
  });

  it("is a no-op for a user who has no tokens", async () => {
    const user = await stack.db.user.create({ data: { name: "tokenless" } });
    expect(await clearUserTokens(stack.db, user.id)).toBe(0);
  });
});

describe("session-secret rotation (#11)", () => {
  it("keeps a session sealed under the old secret once AUTH_SECRET is new and the old one is AUTH_SECRET_1", async () => {
    const agent = await signInThroughApp(APP_URL, "rotating-session", fetcher);
    const old = process.env.AUTH_SECRET!;
    const fresh = Buffer.alloc(32, 9).toString("base64url");
    Object.assign(process.env, { AUTH_SECRET: fresh, AUTH_SECRET_1: old });
    restartApp();
    try {
      const response = await agent.request(`${APP_URL}/api/auth/session`);
      expect(await response.json()).toMatchObject({ user: { name: "rotating-session" } });
      // Auth.js re-seals the session it read, now under the new secret alone.
      const { decode } = await import("next-auth/jwt");
      const cookie = agent.jar.get(APP_URL, "authjs.session-token")!;
      expect(await decode({ token: cookie, secret: fresh, salt: "authjs.session-token" })).toMatchObject({ name: "rotating-session" });
    } finally {
      process.env.AUTH_SECRET = old;
      delete process.env.AUTH_SECRET_1;
      restartApp();
    }
  });
});

describe("key rotation", () => {
  it("still decrypts rows under an old key, and re-encryption moves them to the newest", async () => {
    await signInThroughApp(APP_URL, "rotating-user", fetcher);
    const old = await plain("rotating-user");
    const oldKid = keyring().current.kid;
    const rotated = parseKeyring(`${Buffer.alloc(32, 7).toString("base64url")},${stack.env.TOKEN_ENCRYPTION_KEYS}`);
    expect(await decryptToken(rotated, old.account.access_token!, old.account, "access_token")).toBe(old.accessToken);

    const report = await reencryptAll(stack.db, rotated);
    expect(report.reencrypted).toBeGreaterThanOrEqual(1);
    const moved = await row("rotating-user");
    for (const field of [moved.access_token, moved.refresh_token, moved.id_token]) expect(keyIdOf(field!)).toBe(rotated.current.kid);
    expect(keyIdOf(moved.access_token!)).not.toBe(oldKid);
    expect(await decryptToken(parseKeyring(Buffer.alloc(32, 7).toString("base64url")), moved.refresh_token!, moved, "refresh_token")).toBe(old.refreshToken);
    // A second run finds nothing left to move.
    expect((await reencryptAll(stack.db, rotated)).reencrypted).toBe(0);
  });
});
