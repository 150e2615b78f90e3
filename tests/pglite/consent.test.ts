import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconnectLink, requestMoreScopes } from "@/lib/accounts";
import { createApiKey } from "@/lib/api-keys";
import { CONSENT_MARKER_COOKIE, signConsentLink } from "@/lib/consent";
import { Agent, loginAtDevProvider, signInThroughApp } from "../../testkit/browserless";
import { serveApp, type AppServer } from "../../testkit/app-server";
import { startTestStack, type TestStack } from "../../testkit/stack";

// Consents for one account, over real HTTP (#20): a reconnect link brings a second
// account at the same provider back as itself; a consent finished as another login
// is refused and stores nothing; scopes granted later survive an ordinary sign-in.
let stack: TestStack;
let app: AppServer;
let owner: Agent;
let userId: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  app = await serveApp();
  stack = await startTestStack("pglite", {}, app.port);
  owner = await signInThroughApp(app.origin, "twin-a");
  await signInThroughApp(app.origin, "twin-b", fetch, owner, { prompt: "login consent" });
  const rows = await stack.db.account.findMany({ where: { providerAccountId: { in: ["twin-a", "twin-b"] } } });
  expect(new Set(rows.map((row) => row.userId)).size).toBe(1);
  userId = rows[0]!.userId;
  for (const row of rows) ids[row.providerAccountId] = row.id;
});
afterAll(async () => {
  await app?.close();
  await stack?.stop();
});

const row = (id: string) => stack.db.account.findUniqueOrThrow({ where: { id } });
const callbackPrefix = () => `${app.origin}/api/auth/callback/`;

/** Opens a consent link as `agent`, logs in at the provider as `login`; answers the callback's response. */
async function consentAs(agent: Agent, url: string, login: string): Promise<{ authorization: URL; done: Response }> {
  const opened = await agent.request(url);
  expect(opened.status).toBe(303);
  const authorization = new URL(opened.headers.get("location")!);
  const callback = await loginAtDevProvider(agent, authorization.href, login, callbackPrefix());
  return { authorization, done: await agent.request(callback) };
}

describe("reconnect links", () => {
  it("bring a second account at the same provider back to active as the same account id", async () => {
    await stack.db.account.update({ where: { id: ids["twin-b"] }, data: { status: "reauth_required", lastError: "invalid_grant: grant revoked" } });
    const before = await row(ids["twin-b"]!);
    // As a service asks for it, with a key.
    const { key } = await createApiKey(stack.db, { name: "mailer", scopes: ["reconnect"] });
    const link = (await (await fetch(`${app.origin}/api/v1/accounts/${ids["twin-b"]}/reconnect`, { method: "POST", headers: { authorization: `Bearer ${key}` } })).json()) as { url: string };
    const { authorization, done } = await consentAs(owner, link.url, "twin-b");
    // The provider was asked for this account: its login hinted, its scopes, consent again.
    expect(authorization.searchParams.get("login_hint")).toBe("twin-b@dev.tokenkeeper.test");
    expect(authorization.searchParams.get("scope")?.split(" ")).toStrictEqual(expect.arrayContaining(["openid", "offline_access"]));
    expect(authorization.searchParams.get("prompt")).toContain("consent");
    expect(done.status).toBe(302);
    expect(new URL(done.headers.get("location")!).pathname).toBe("/dashboard");
    const after = await row(ids["twin-b"]!);
    expect(after).toMatchObject({ id: before.id, userId, status: "active", lastError: null });
    expect(after.tokenVersion).toBeGreaterThan(before.tokenVersion);
    expect(await stack.db.account.count()).toBe(2);
  });

  it("send a signed-out browser to sign in first, and come back to the link", async () => {
    const { url } = await reconnectLink(userId, ids["twin-a"]!, app.origin);
    const response = await new Agent().request(url);
    expect(response.status).toBe(303);
    const signIn = new URL(response.headers.get("location")!);
    expect(signIn.pathname).toBe("/signin");
    expect(new URL(signIn.searchParams.get("callbackUrl")!, app.origin).href).toBe(url);
  });

  it("refuse another user's session, and an expired or forged link, with a page saying so", async () => {
    const { url } = await reconnectLink(userId, ids["twin-a"]!, app.origin);
    const stranger = await signInThroughApp(app.origin, "stranger");
    const foreign = await stranger.request(url);
    expect(foreign.status).toBe(403);
    expect(await foreign.text()).toContain("This link is for another user");
    const secret = stack.env.AUTH_SECRET!;
    const expired = await signConsentLink(secret, app.origin, { accountId: ids["twin-a"]!, userId, scopes: [] }, new Date(Date.now() - 3_600_000));
    const old = await owner.request(expired.url);
    expect(old.status).toBe(400);
    expect(await old.text()).toContain("This link has expired");
    const forged = await signConsentLink("another-secret-of-32-characters!", app.origin, { accountId: ids["twin-a"]!, userId, scopes: [] });
    expect((await owner.request(forged.url)).status).toBe(400);
  });

  it("work once: an opening after the first consent started, even at the same moment, gets a page saying so and starts nothing", async () => {
    const { url } = await reconnectLink(userId, ids["twin-a"]!, app.origin);
    // A signed-out opening (sent to sign in first) does not use the link up.
    expect((await new Agent().request(url)).status).toBe(303);
    const browser = await signInThroughApp(app.origin, "twin-a");
    const [first, second] = await Promise.all([browser.request(url), browser.request(url)]);
    expect([first.status, second.status].sort()).toStrictEqual([303, 410]);
    const refused = first.status === 410 ? first : second;
    expect(refused.headers.get("location")).toBeNull();
    expect(await refused.text()).toContain("This link was already used");
    const again = await browser.request(url);
    expect(again.status).toBe(410);
    expect(await stack.db.consentLinkUse.count()).toBeGreaterThanOrEqual(1);
  });

  it("stay usable when the consent could not start (the provider's discovery down), and work once it is back", async () => {
    const { url } = await reconnectLink(userId, ids["twin-a"]!, app.origin);
    const browser = await signInThroughApp(app.origin, "twin-a");
    stack.oidc!.faults.discovery = () => 503;
    try {
      const down = await browser.request(url);
      expect(down.status).toBe(503);
      expect(await down.text()).toContain("it has not been used");
    } finally {
      stack.oidc!.faults.discovery = undefined;
    }
    expect((await browser.request(url)).status).toBe(303);
    expect((await browser.request(url)).status).toBe(410);
  });
});

describe("the same account, every time", () => {
  it("refuses a more-access consent finished as another login: a clear page, no second account, no tokens stored", async () => {
    const before = await row(ids["twin-a"]!);
    const users = await stack.db.user.count();
    const { url } = await requestMoreScopes(userId, ids["twin-a"]!, { scopes: ["phone"] }, app.origin);
    const { done } = await consentAs(owner, url, "intruder");
    expect(new URL(done.headers.get("location")!, app.origin).pathname).toBe("/api/v1/consent/refused");
    const page = await owner.request(new URL(done.headers.get("location")!, app.origin).href);
    expect(page.status).toBe(409);
    expect(page.headers.getSetCookie()).toContainEqual(expect.stringMatching(new RegExp(`^${CONSENT_MARKER_COOKIE.replaceAll(".", "\\.")}=; .*Max-Age=0`)));
    const text = await page.text();
    expect(text).toContain("That was another account");
    expect(text).toContain("twin-a@dev.tokenkeeper.test");
    expect(text).toContain("Nothing was changed");
    expect(await stack.db.account.findFirst({ where: { providerAccountId: "intruder" } })).toBeNull();
    expect(await stack.db.user.count()).toBe(users);
    expect(await row(ids["twin-a"]!)).toStrictEqual(before);
    // The marker is cleared: the page opened again (or by hand) has nothing to explain.
    const again = await owner.request(new URL(done.headers.get("location")!, app.origin).href);
    expect(again.status).toBe(404);
    expect(await again.text()).toContain("No refused consent here");
  });

  it("stores more scopes on the same account when the consent comes back as it, and keeps them across a later ordinary sign-in", async () => {
    const { url } = await requestMoreScopes(userId, ids["twin-a"]!, { scopes: ["phone"] }, app.origin);
    const { done } = await consentAs(owner, url, "twin-a");
    expect(done.status).toBe(302);
    const granted = await row(ids["twin-a"]!);
    expect(granted.scope?.split(" ")).toStrictEqual(expect.arrayContaining(["openid", "offline_access", "phone"]));
    // An ordinary sign-in (the marker cookie of that consent still in the jar) asks
    // for the default scopes only; the provider's narrower answer erases nothing.
    await signInThroughApp(app.origin, "twin-a", fetch, owner, { prompt: "login consent" });
    const later = await row(ids["twin-a"]!);
    expect(later.tokenVersion).toBeGreaterThan(granted.tokenVersion);
    expect(later.scope?.split(" ")).toStrictEqual(expect.arrayContaining(["openid", "offline_access", "phone"]));
    expect(await stack.db.account.count({ where: { userId } })).toBe(2);
  });

  it("still links a new account with an ordinary sign-in after a refused consent", async () => {
    await signInThroughApp(app.origin, "twin-c", fetch, owner, { prompt: "login consent" });
    expect(await stack.db.account.findFirstOrThrow({ where: { providerAccountId: "twin-c" } })).toMatchObject({ userId });
  });
});
