import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { providerSpecs } from "@/lib/providers";
import { DESCRIPTORS } from "@/lib/providers/registry";
import { envNames } from "@/lib/providers/descriptor";
import { ProviderUnavailableError, ReauthRequiredError } from "@/lib/errors";
import { LOST_ANSWER } from "@/lib/providers/requests";
import { disconnect, listAccounts } from "@/lib/accounts";
import { tokenFetch } from "@/lib/provider-proxy";
import { tokenkeeper } from "@/lib/tokenkeeper";
import { getAccessToken } from "@/lib/tokens";
import { decryptToken, parseKeyring } from "@/lib/tokens/crypto";
import { Agent, type Fetcher } from "../../testkit/browserless";
import { APP_URL, appFetcher } from "../support/app";
import { GENERIC_STAND_INS, GITHUB_OAUTH_APP, SALESFORCE, SALESFORCE_RENAMED, STAND_INS } from "../support/stand-in/providers";
import { StandIn, type StandInConfig, type StandInUser } from "../support/stand-in/server";
import { engineFor, startTestStack, type TestStack } from "../../testkit/stack";

// Every catalogue provider against the stand-in of its documented behaviour, reached
// under its real host names: sign-in through Auth.js's own provider, then the app's
// own engine (environment → registry → engine), proxy and disconnect. One table, one
// row per provider (tests/support/stand-in/providers.ts).
let stack: TestStack;
let standIn: StandIn;
let fetcher: Fetcher;

const ALL = [...STAND_INS, ...GENERIC_STAND_INS];
const STARTED = [...ALL, SALESFORCE, SALESFORCE_RENAMED];
const credentials = Object.fromEntries(
  STARTED.flatMap((config) => {
    const names = envNames(config.id);
    return [[names.id, `${config.id}-client`], [names.secret, `${config.id}-secret`], ...(config.oidc ? [[names.issuer, config.oidc.issuer]] : [])];
  }),
);

beforeAll(async () => {
  stack = await startTestStack("pglite");
  // The app reads its providers from the environment, as in production.
  Object.assign(process.env, credentials);
  standIn = await StandIn.start(STARTED);
  fetcher = await appFetcher();
});
afterAll(async () => {
  await standIn?.stop();
  await stack?.stop();
});

const keyring = () => parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS);
const accountOf = (provider: string, providerAccountId: string) => stack.db.account.findUniqueOrThrow({ where: { provider_providerAccountId: { provider, providerAccountId } } });
const refreshTokenOf = async (row: Awaited<ReturnType<typeof accountOf>>) => decryptToken(keyring(), row.refresh_token!, row, "refresh_token");

/** Signs in through Auth.js with `provider` (the stand-in answers under the real hosts), as a new user or `as`; the account's row. */
async function signIn(config: StandInConfig, as?: StandInUser) {
  standIn.nextUser = as;
  const agent = new Agent(fetcher);
  const csrf = (await (await agent.request(`${APP_URL}/api/auth/csrf`)).json()) as { csrfToken: string };
  const start = await agent.request(`${APP_URL}/api/auth/signin/${config.id}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrfToken: csrf.csrfToken, callbackUrl: `${APP_URL}/dashboard` }).toString(),
  });
  const authorizationUrl = start.headers.get("location") ?? "";
  expect(authorizationUrl.startsWith(config.authorize)).toBe(true);
  const { url: callback } = await agent.follow(authorizationUrl, {}, (url) => url.startsWith(APP_URL));
  const done = await agent.request(callback);
  expect(done.headers.get("location") ?? "").not.toContain("error");
  const row = as ? await accountOf(config.id, as.sub) : (await stack.db.account.findMany({ where: { provider: config.id }, orderBy: { createdAt: "desc" }, take: 1 }))[0]!;
  return { row, sub: standIn.lastUser!.sub, user: standIn.lastUser!, authorizationUrl: new URL(authorizationUrl) };
}

/**
 * The same user consents to the same app somewhere else (another deployment, a script
 * with the app's credentials): the authorization code flow against the stand-in, as
 * any client speaks it.
 */
async function consentElsewhere(config: StandInConfig, user: StandInUser) {
  standIn.nextUser = user;
  const authorize = new URL(config.authorize);
  authorize.search = new URLSearchParams({ client_id: `${config.id}-client`, response_type: "code", redirect_uri: "https://elsewhere.example/callback", scope: "refresh_token" }).toString();
  const code = new URL((await fetch(authorize, { redirect: "manual" })).headers.get("location")!).searchParams.get("code")!;
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    redirect_uri: "https://elsewhere.example/callback",
    client_id: `${config.id}-client`,
    client_secret: `${config.id}-secret`,
  });
  expect((await fetch(config.signInToken ?? config.token, { method: "POST", body })).status).toBe(200);
}

const expire = async (accountId: string) => {
  standIn.expireAccessTokens();
  await stack.db.account.update({ where: { id: accountId }, data: { expires_at: Math.floor(Date.now() / 1000) - 10 } });
};

describe.each(ALL.map((config) => [config.id, config] as const))("%s", (id, config) => {
  const descriptor = DESCRIPTORS.find((entry) => entry.id === id)!;
  let first: Awaited<ReturnType<typeof signIn>>;

  it("signs in through Auth.js's own provider, asking for a refresh token, and stores the tokens", async () => {
    standIn.play(config);
    first = await signIn(config);
    for (const [name, value] of Object.entries(descriptor.offlineParams)) expect(first.authorizationUrl.searchParams.get(name)).toBe(value);
    expect(standIn.stats.codeExchanges).toBe(1);
    expect(first.row).toMatchObject({ status: "active", provider: id });
    expect(first.row.refresh_token).not.toBeNull();
    const expiresAt = Number(first.row.expires_at);
    expect(Math.abs(expiresAt - (Date.now() / 1000 + config.expiresIn!))).toBeLessThan(30);
  });

  it("refreshes at expiry the way the provider authenticates and rotates", async () => {
    const before = await refreshTokenOf(first.row);
    await expire(first.row.id);
    const token = await getAccessToken(first.row.userId, id);
    expect(standIn.stats.refreshes).toBe(1);
    expect(standIn.stats.refreshRequests).toStrictEqual([{ clientAuth: config.clientAuth, body: config.body ?? "form" }]);
    const after = await accountOf(id, first.row.providerAccountId);
    expect(await decryptToken(keyring(), after.access_token!, after, "access_token")).toBe(token);
    // none keeps the refresh token; every other mode rotates on the first refresh here.
    expect((await refreshTokenOf(after)) !== before).toBe(config.rotation !== "none");
    expect(Math.abs(Number(after.expires_at) - (Date.now() / 1000 + config.expiresIn!))).toBeLessThan(30);
    // A documented absolute lifetime is the grant's end from the consent on (account.reauth_upcoming before it).
    const lifetime = descriptor.refreshTokenLifetime;
    const consent = first.row.refreshedAt!.getTime();
    if (lifetime?.kind === "absolute" && !config.extra?.refresh_token_expires_in) expect(after.reauthBy?.getTime()).toBe(consent + lifetime.days * 86_400_000);
    if (lifetime?.kind === "idle") expect(Math.abs(after.refreshTokenExpiresAt!.getTime() - (Date.now() + lifetime.days * 86_400_000))).toBeLessThan(60_000);
    first.row = after;
  });

  it("makes one refresh for a storm of 30 calls", async () => {
    await expire(first.row.id);
    const tokens = await Promise.all(Array.from({ length: 30 }, () => getAccessToken(first.row.userId, id)));
    expect(new Set(tokens).size).toBe(1);
    expect(standIn.stats.refreshes).toBe(2);
  });

  it("proxies a call to its API base with a fresh bearer and the API headers it documents, nothing else", async () => {
    const documented = Object.fromEntries((descriptor.apiHeaders ?? []).map((name) => [name, "stand-in"]));
    const response = await tokenFetch(first.row.userId, first.row.id, "stand-in/ping?x=1", { headers: { ...documented, "x-not-documented": "no" } });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ provider: id, user: first.sub });
    const call = standIn.stats.apiCalls.at(-1)!;
    expect(call.url).toBe(`${config.api}/stand-in/ping?x=1`);
    expect(call.headers).toMatchObject(documented);
    expect(call.headers["x-not-documented"]).toBeUndefined();
  });

  it("disconnects, revoking the grant where the provider has revocation", async () => {
    const second = await signIn(config);
    const result = await disconnect(second.row.userId, second.row.id);
    expect(result).toStrictEqual({ provider: id, revoked: Boolean(config.revocation), revocationError: null });
    expect(standIn.stats.revocations).toBe(config.revocation ? 2 : 0);
    expect(await stack.db.account.findUnique({ where: { id: second.row.id } })).toBeNull();
  });

  it("ends a revoked grant in reauth_required from the provider's own error shape, and sends nothing more", async () => {
    standIn.revokeUser(first.sub);
    await expire(first.row.id);
    const refreshes = standIn.stats.refreshes;
    await expect(getAccessToken(first.row.userId, id)).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(standIn.stats.refreshes).toBe(refreshes + 1);
    expect((await accountOf(id, first.row.providerAccountId)).status).toBe("reauth_required");
    await expect(getAccessToken(first.row.userId, id)).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(standIn.stats.refreshes).toBe(refreshes + 1);
  });
});

describe("tokens that never expire (GitHub OAuth App)", () => {
  it("are active with no expiry, never refreshed, and a 401 from the API ends the grant in reauth_required", async () => {
    standIn.play(GITHUB_OAUTH_APP);
    const { row, sub } = await signIn(GITHUB_OAUTH_APP);
    expect(row).toMatchObject({ status: "active", expires_at: null, refresh_token: null });
    expect(await listAccounts(row.userId)).toMatchObject([{ id: row.id, status: "active", expiresAt: null }]);
    const token = await getAccessToken(row.userId, "github");
    expect((await tokenFetch(row.userId, row.id, "user/repos")).status).toBe(200);
    standIn.revokeUser(sub);
    await expect(tokenFetch(row.userId, row.id, "user/repos")).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(await accountOf("github", row.providerAccountId)).toMatchObject({ status: "reauth_required" });
    await expect(getAccessToken(row.userId, "github")).rejects.toBeInstanceOf(ReauthRequiredError);
    // Nothing was ever refreshed; the token was sent twice and refused once.
    expect(standIn.stats.refreshes).toBe(0);
    expect(standIn.stats.apiCalls.map((call) => call.headers.authorization)).toStrictEqual([`Bearer ${token}`, `Bearer ${token}`]);
  });
});

describe("a refresh whose answer is lost after the request was sent", () => {
  // A short provider timeout; the stand-in processes the refresh, rotates, and never answers.
  const engine = () => engineFor(stack, { providers: providerSpecs(process.env), providerTimeoutMs: 1_000 });
  const lose = async (id: string) => {
    const config = STAND_INS.find((entry) => entry.id === id)!;
    standIn.play(config);
    const { row } = await signIn(config);
    await expire(row.id);
    standIn.loseNextAnswer = true;
    return row;
  };

  it("is asked again at once with the same refresh token where the old one stays valid (Microsoft)", async () => {
    const row = await lose("microsoft-entra-id");
    await engine().getAccessToken(row.userId, "microsoft-entra-id");
    expect(standIn.stats.refreshes).toBe(2);
    expect(await accountOf("microsoft-entra-id", row.providerAccountId)).toMatchObject({ status: "active", failureCount: 0 });
  });

  it("is asked again at once with the same refresh token within the provider's documented reuse grace (Atlassian's 10-minute leeway)", async () => {
    const row = await lose("atlassian");
    const token = await engine().getAccessToken(row.userId, "atlassian");
    expect(standIn.stats.refreshes).toBe(2);
    const after = await accountOf("atlassian", row.providerAccountId);
    expect(after).toMatchObject({ status: "active", failureCount: 0, lastError: null });
    expect(await decryptToken(keyring(), after.access_token!, after, "access_token")).toBe(token);
  });

  it("is named in lastError where rotation is strict (X), and the grant's end says it came of it", async () => {
    const row = await lose("twitter");
    await expect(engine().getAccessToken(row.userId, "twitter")).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(standIn.stats.refreshes).toBe(1);
    const failed = await accountOf("twitter", row.providerAccountId);
    expect(failed).toMatchObject({ status: "active", failureCount: 1 });
    expect(failed.lastError).toContain(LOST_ANSWER);
    // The stored token was spent by the lost refresh: X refuses it, and the grant ends.
    await stack.db.account.update({ where: { id: row.id }, data: { retryAfter: null } });
    await expect(engine().getAccessToken(row.userId, "twitter")).rejects.toBeInstanceOf(ReauthRequiredError);
    const ended = await accountOf("twitter", row.providerAccountId);
    expect(ended.status).toBe("reauth_required");
    expect(ended.lastError).toContain(LOST_ANSWER);
  });
});

describe("tokens without expires_in (Salesforce)", () => {
  it("are used until the API refuses them, then refreshed; a revoked grant ends in reauth_required", async () => {
    standIn.play(SALESFORCE);
    const { row, sub, authorizationUrl } = await signIn(SALESFORCE);
    expect(authorizationUrl.searchParams.get("scope")).toContain("refresh_token");
    expect(row).toMatchObject({ status: "active", expires_at: null });
    const first = await getAccessToken(row.userId, "salesforce");
    expect(standIn.stats.refreshes).toBe(0);
    // The session timed out: the API refuses the token, and that is when it is refreshed.
    standIn.expireAccessTokens();
    await tokenkeeper().engine.accessTokenRefused(await accountOf("salesforce", row.providerAccountId));
    expect(standIn.stats.refreshes).toBe(1);
    const second = await getAccessToken(row.userId, "salesforce");
    expect(second).not.toBe(first);
    expect(await accountOf("salesforce", row.providerAccountId)).toMatchObject({ status: "active", expires_at: null });
    standIn.revokeUser(sub);
    standIn.expireAccessTokens();
    await expect(tokenkeeper().engine.accessTokenRefused(await accountOf("salesforce", row.providerAccountId))).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(await accountOf("salesforce", row.providerAccountId)).toMatchObject({ status: "reauth_required" });
    expect(standIn.stats.refreshes).toBe(2);
  });
});

describe("the API base from the token answer (Salesforce's instance_url)", () => {
  let row: Awaited<ReturnType<typeof accountOf>>;
  const path = "services/data/v62.0/limits";

  it("is stored at sign-in, and the proxy calls the org's own host", async () => {
    standIn.play(SALESFORCE);
    row = (await signIn(SALESFORCE)).row;
    expect(row.apiBaseUrl).toBe("https://acme.my.salesforce.com");
    const response = await tokenFetch(row.userId, row.id, path);
    expect(response.status).toBe(200);
    expect(standIn.stats.apiCalls.map((call) => call.url)).toStrictEqual([`https://acme.my.salesforce.com/${path}`]);
  });

  it("follows a refresh answer that names another host of the provider's", async () => {
    standIn.play(SALESFORCE_RENAMED);
    standIn.expireAccessTokens();
    await tokenkeeper().engine.accessTokenRefused(await accountOf("salesforce", row.providerAccountId));
    row = await accountOf("salesforce", row.providerAccountId);
    expect(row.apiBaseUrl).toBe("https://acme-renamed.my.salesforce.com");
    expect((await tokenFetch(row.userId, row.id, path)).status).toBe(200);
    expect(standIn.stats.apiCalls.at(-1)!.url).toBe(`https://acme-renamed.my.salesforce.com/${path}`);
  });

  it("ignores an instance_url off Salesforce's domains, keeping the stored base, and logs why without a token", async () => {
    const foreign = "https://acme-renamed.my.salesforce.com.attacker.example";
    standIn.play({ ...SALESFORCE_RENAMED, extra: { ...SALESFORCE_RENAMED.extra, instance_url: foreign } });
    standIn.expireAccessTokens();
    const warn = vi.spyOn(console, "warn");
    try {
      const issued = await tokenkeeper().engine.accessTokenRefused(await accountOf("salesforce", row.providerAccountId));
      const refused = warn.mock.calls.map(([line]) => String(line)).filter((line) => line.includes("refresh.api_base_refused"));
      expect(refused).toHaveLength(1);
      expect(refused[0]).toContain("is not under salesforce.com");
      expect(refused[0]).not.toContain(issued.accessToken);
    } finally {
      warn.mockRestore();
    }
    row = await accountOf("salesforce", row.providerAccountId);
    expect(row).toMatchObject({ status: "active", apiBaseUrl: "https://acme-renamed.my.salesforce.com" });
    expect((await tokenFetch(row.userId, row.id, path)).status).toBe(200);
    expect(standIn.stats.apiCalls.at(-1)!.url).toBe(`https://acme-renamed.my.salesforce.com/${path}`);
  });

  it("ignores such an instance_url at sign-in too: the account keeps the provider's base", async () => {
    standIn.play({ ...SALESFORCE, extra: { ...SALESFORCE.extra, instance_url: "http://acme.my.salesforce.com" } });
    const warn = vi.spyOn(console, "warn");
    try {
      const other = (await signIn(SALESFORCE)).row;
      expect(other.apiBaseUrl).toBeNull();
      expect(warn.mock.calls.map(([line]) => String(line)).filter((line) => line.includes("signin.api_base_refused"))).toHaveLength(1);
    } finally {
      warn.mockRestore();
    }
  });

  it("makes one refresh for 30 calls the API refused at once (its expiry is the API's 401)", async () => {
    standIn.play(SALESFORCE_RENAMED);
    standIn.expireAccessTokens();
    const stale = await accountOf("salesforce", row.providerAccountId);
    const issued = await Promise.all(Array.from({ length: 30 }, () => tokenkeeper().engine.accessTokenRefused(stale)));
    expect(new Set(issued.map((each) => each.accessToken)).size).toBe(1);
    expect(standIn.stats.refreshes).toBe(1);
  });

  it("disconnects, revoking the grant at Salesforce", async () => {
    const result = await disconnect(row.userId, row.id);
    expect(result).toStrictEqual({ provider: "salesforce", revoked: true, revocationError: null });
    // The refresh token and the access token, as for every provider with revocation.
    expect(standIn.stats.revocations).toBe(2);
    expect(await stack.db.account.findUnique({ where: { id: row.id } })).toBeNull();
  });
});

describe("caps on live grants", () => {
  const ZOOM = STAND_INS.find((config) => config.id === "zoom")!;

  it("ends the grant Tokenkeeper holds when the user consents elsewhere (Zoom keeps one): reauth_required naming the cap, nothing more sent", async () => {
    standIn.play(ZOOM);
    const { row, user } = await signIn(ZOOM);
    await consentElsewhere(ZOOM, user);
    expect(standIn.liveGrants(user.sub)).toBe(1);
    await expire(row.id);
    await expect(getAccessToken(row.userId, "zoom")).rejects.toBeInstanceOf(ReauthRequiredError);
    const ended = await accountOf("zoom", row.providerAccountId);
    expect(ended.status).toBe("reauth_required");
    expect(ended.lastError).toContain("zoom keeps one live grant per user for this app: a consent since this one");
    await expect(getAccessToken(row.userId, "zoom")).rejects.toBeInstanceOf(ReauthRequiredError);
    expect(standIn.stats.refreshes).toBe(1);
  });

  it("keeps the newer grant when the same user signs in again (Zoom ends the older one)", async () => {
    standIn.play(ZOOM);
    const first = await signIn(ZOOM);
    const again = await signIn(ZOOM, first.user);
    expect(again.row.id).toBe(first.row.id);
    expect(await refreshTokenOf(again.row)).not.toBe(await refreshTokenOf(first.row));
    expect(standIn.liveGrants(first.sub)).toBe(1);
    await expire(first.row.id);
    await getAccessToken(first.row.userId, "zoom");
    expect(standIn.stats.refreshes).toBe(1);
    expect(await accountOf("zoom", first.sub)).toMatchObject({ status: "active", failureCount: 0 });
  });

  it("keeps the newest of Salesforce's five over six sign-ins, and ends it when five consents elsewhere follow", async () => {
    standIn.play(SALESFORCE);
    const first = await signIn(SALESFORCE);
    for (let n = 0; n < 5; n++) await signIn(SALESFORCE, first.user);
    expect(standIn.liveGrants(first.sub)).toBe(5);
    standIn.expireAccessTokens();
    await tokenkeeper().engine.accessTokenRefused(await accountOf("salesforce", first.sub));
    expect(await accountOf("salesforce", first.sub)).toMatchObject({ status: "active", failureCount: 0 });
    for (let n = 0; n < 5; n++) await consentElsewhere(SALESFORCE, first.user);
    standIn.expireAccessTokens();
    await expect(tokenkeeper().engine.accessTokenRefused(await accountOf("salesforce", first.sub))).rejects.toBeInstanceOf(ReauthRequiredError);
    const ended = await accountOf("salesforce", first.sub);
    expect(ended.status).toBe("reauth_required");
    expect(ended.lastError).toContain("salesforce keeps at most 5 live grants per user for this app: 5 consents since this one");
  });
});
