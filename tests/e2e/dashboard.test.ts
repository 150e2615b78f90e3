import { mkdirSync, writeFileSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "@/lib/api-keys";
import { decryptOptional, parseKeyring } from "@/lib/tokens/crypto";
import { createServer, type Server } from "node:http";
import { postToProvider } from "../../testkit/grants";
import { buildAndStart, start, type NextServer } from "../support/next-server";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver";
import { startTestStack, type TestStack } from "../../testkit/stack";

// A person's whole visit, in Debian's Chromium against `next start`, at 1280 and 390 px:
// sign in at the dev provider (and cancel once), watch the card, refresh (twice at
// once, and from a stale tab), call the API, lose the grant, disconnect, sign out in
// both TOKENKEEPER_SIGN_OUT modes — by keyboard where a person could, with axe-core on
// every state (#22). Screenshots in artifacts/, axe counts in artifacts/axe.json.
const PORT = 3210;
const ARTIFACTS = new URL("../../artifacts/", import.meta.url).pathname;
const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d/;
let stack: TestStack;
let server: NextServer;
let browser: Browser;
let otlp: OtlpReceiver;
const seen: { url: string; body: string }[] = [];
const issued = new Set<string>();
const axeCounts: Record<string, Record<string, number>> = {};
let serverEnv: Record<string, string>;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startTestStack("pglite", { PORT: String(PORT) }, PORT);
  // A short forced-refresh interval, so the visit can press "Refresh now" soon after signing in.
  // Spans go to a loopback collector (OTLP/HTTP JSON), read back by the #16 test.
  otlp = await startOtlpReceiver();
  const telemetry = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "200" };
  // A proxy rate that refills slowly (one call per 10 s, bursts of 20), so the #16 flood meets it whatever the machine's speed.
  serverEnv = { ...stack.env, ...telemetry, TOKEN_FORCED_REFRESH_INTERVAL_SECONDS: "3", TOKENKEEPER_OPERATOR_EMAILS: "grace@dev.tokenkeeper.test", TOKENKEEPER_PROXY_RATE: "0.1,20" };
  server = await buildAndStart(serverEnv, PORT);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
afterAll(async () => {
  writeFileSync(`${ARTIFACTS}axe.json`, `${JSON.stringify(axeCounts, null, 2)}\n`);
  await browser?.close();
  await server?.stop();
  await otlp?.close();
  await stack?.stop();
});

/** Every token value stored so far, decrypted, to look for in what the browser got. */
async function collectIssuedTokens() {
  const keyring = parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS);
  for (const row of await stack.db.account.findMany()) {
    for (const column of ["access_token", "refresh_token", "id_token"] as const) {
      const plain = await decryptOptional(keyring, row[column], row, column);
      if (plain) issued.add(plain);
    }
  }
}

/** No token stored so far is in anything the browser received. */
function expectNoTokenSeen() {
  for (const { url, body } of seen) {
    for (const token of issued) expect(body.includes(token), `${url} must not contain a token`).toBe(false);
  }
}

async function newPage(width: number): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 900 }, timezoneId: "Europe/Paris", locale: "en-GB" });
  const page = await context.newPage();
  page.on("response", async (response) => {
    if (!response.url().startsWith(server.url)) return;
    const type = response.headers()["content-type"] ?? "";
    if (/json|html|text\/x-component/.test(type)) seen.push({ url: response.url(), body: await response.text().catch(() => "") });
  });
  return page;
}

const widthOf = (page: Page) => page.viewportSize()!.width;

/** A screenshot of the whole page, named for the state and the width. */
async function shot(page: Page, state: string) {
  await page.screenshot({ path: `${ARTIFACTS}${state}-${widthOf(page)}.png`, fullPage: true });
}

/** axe-core on the page as it is: no serious or critical violation; every count kept for the report. */
async function axe(page: Page, state: string) {
  const { violations } = await new AxeBuilder({ page: page as never }).analyze();
  const counts: Record<string, number> = { minor: 0, moderate: 0, serious: 0, critical: 0 };
  for (const violation of violations) counts[violation.impact ?? "minor"]! += violation.nodes.length;
  axeCounts[`${state}-${widthOf(page)}`] = counts;
  const severe = violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
  expect(
    severe.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`),
    `axe on ${state}`,
  ).toStrictEqual([]);
}

/**
 * Until no CSS transition or finite animation runs: a state is what the page shows
 * once it has arrived. A toast fades in over 400 ms (sonner), and axe sampling that
 * fade measured its text at a fraction of its opacity (1.08:1 at 50 ms in, against
 * its 17.9:1 at rest): a finding about the timing of the check, not about the page.
 */
async function settled(page: Page) {
  await page.waitForFunction(() => document.getAnimations().every((animation) => animation.playState !== "running" || animation.effect?.getComputedTiming().iterations === Infinity));
}

/** The state, seen and checked once settled: a screenshot and axe. */
async function state(page: Page, name: string) {
  await settled(page);
  await shot(page, name);
  await axe(page, name);
}

/** Presses Tab until `target` has the focus: proves it is reachable by keyboard. */
async function tabTo(page: Page, target: Locator, presses = 40) {
  for (let i = 0; i < presses; i++) {
    if (await target.evaluate((node) => node === document.activeElement)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`${target} is not reachable with Tab`);
}

/** From the sign-in page: the dev provider's login and consent forms, back to /dashboard. */
async function signInAtDevProvider(page: Page, login: string) {
  await page.getByRole("button", { name: /Continue with Tokenkeeper dev provider/ }).click();
  await loginAndConsent(page, login);
}

/** At the dev provider: its login form (unless this user's session there is still on), then consent; back at `backAt`. */
async function loginAndConsent(page: Page, login: string, backAt: string | RegExp = `${server.url}/dashboard`) {
  const form = page.locator('input[name="login"]');
  const consent = page.getByRole("button", { name: "Continue", exact: true });
  await form.or(consent).first().waitFor();
  if (await form.isVisible()) await loginAtProvider(page, login);
  await consent.click();
  await page.waitForURL(backAt);
}

/** Back on the dashboard after a consent for one account (its callback URL carries the consent's nonce). */
const AFTER_CONSENT = /\/dashboard\?consent=/;

async function loginAtProvider(page: Page, login: string) {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("anything");
  await page.locator('button[type="submit"]').click();
}

const accountRow = (login: string) => stack.db.account.findUniqueOrThrow({ where: { provider_providerAccountId: { provider: "oidc", providerAccountId: login } } });

/** No token stored so far is in anything the browser received, nor in the server's logs. */
function expectNoLeaks() {
  expectNoTokenSeen();
  for (const token of issued) expect(server.output().includes(token), "server logs must not contain a token").toBe(false);
}

describe("the dashboard in Chromium", () => {
  it("a whole visit at 1280 px: errors in plain words, every action by keyboard, sign-out said before it clears", async () => {
    const page = await newPage(1280);
    await page.goto(server.url);
    await state(page, "landing");
    expect(await page.locator("body").textContent()).not.toMatch(/JWE|A256GCM/);

    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/signin\?callbackUrl=/);
    await state(page, "signin");

    // A cancelled consent: plain words, no Auth.js code.
    await page.getByRole("button", { name: /Continue with Tokenkeeper dev provider/ }).click();
    await loginAtProvider(page, "ada");
    await page.getByRole("link", { name: "[ Cancel ]" }).click();
    await page.waitForURL(/\/signin\?.*error=/);
    await expect.poll(() => page.getByTestId("signin-error").textContent()).toMatch(/^Sign-in was cancelled, or the provider did not give permission\. Nothing was changed/);
    expect(await page.locator("main").textContent()).not.toMatch(/OAuth|Callback|Error\b/);
    await state(page, "signin-cancelled");

    await signInAtDevProvider(page, "ada");
    const card = page.locator('article[data-provider="oidc"]');
    await expect.poll(() => card.getByTestId("status").textContent()).toBe("Connected");
    await expect.poll(() => card.getByTestId("countdown").textContent()).toMatch(/^\d+ min \d\d s$/);
    await collectIssuedTokens();
    // ada is no operator: no panel, in the page or in anything the browser received.
    expect(await page.getByRole("heading", { name: "Operator panel" }).count()).toBe(0);
    expect(seen.some(({ body }) => body.includes("Last sweep runs") || body.includes("expiringWithinHour"))).toBe(false);

    // Just signed in: "Refresh now" waits out the interval and says why (#11), then works.
    const refresh = card.getByTestId("refresh");
    await expect.poll(() => card.getByTestId("refresh-wait").textContent()).toMatch(/^Just renewed — you can refresh again in \d s\.$/);
    expect(await refresh.isDisabled()).toBe(true);
    expect(await refresh.getAttribute("aria-describedby")).toBeTruthy();
    await state(page, "dashboard");

    // A stale tab, opened now, will press "Refresh now" after this one has.
    const stale = await page.context().newPage();
    await stale.goto(`${server.url}/dashboard`);
    await expect.poll(() => refresh.isEnabled(), { timeout: 10_000 }).toBe(true);

    // A double-click sends one refresh, by keyboard-reachable button.
    const refreshCalls: string[] = [];
    page.on("request", (request) => void (request.method() === "POST" && request.url().endsWith("/refresh") && refreshCalls.push(request.url())));
    const refreshedBefore = await card.getByTestId("refreshed-at").locator("time").getAttribute("datetime");
    await refresh.dblclick();
    await expect.poll(() => card.getByTestId("refreshed-at").locator("time").getAttribute("datetime")).not.toBe(refreshedBefore);
    await page.getByText("Tokenkeeper dev provider · ada@dev.tokenkeeper.test renewed").waitFor();
    expect(refreshCalls).toHaveLength(1);
    expect(await card.getByTestId("card-error").count()).toBe(0);
    await collectIssuedTokens();

    // The stale tab's "Refresh now" is refused: in plain words, the time in the reader's zone.
    const staleCard = stale.locator('article[data-provider="oidc"]');
    await staleCard.getByTestId("refresh").click();
    await expect
      .poll(() => staleCard.getByTestId("card-error").textContent())
      .toMatch(/^Tokenkeeper dev provider · ada@dev\.tokenkeeper\.test was refreshed moments ago\. You can refresh it again at \d{1,2}:\d\d:\d\d\.$/);
    expect(await staleCard.textContent()).not.toMatch(ISO_TIME);
    await state(stale, "dashboard-refresh-refused");
    await stale.close();

    // "Test a call", by keyboard: the provider's answer, labelled, wrapped.
    const testCall = card.getByRole("button", { name: "Test a call" });
    await tabTo(page, testCall);
    await page.keyboard.press("Enter");
    await expect.poll(() => card.getByTestId("userinfo").textContent()).toContain('"name": "ada"');
    await card.getByText("What Tokenkeeper dev provider says about this account").waitFor();
    // Its toast is on screen while axe checks the state, at rest.
    await page.getByText("Tokenkeeper dev provider answered").waitFor();
    await state(page, "dashboard-api-answer");

    // The grant revoked at the provider: the next refresh says what happened and what to do.
    await collectIssuedTokens();
    const keyring = parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS);
    const row = await accountRow("ada");
    const refreshToken = (await decryptOptional(keyring, row.refresh_token, row, "refresh_token"))!;
    expect((await postToProvider(stack, "/token/revocation", { token: refreshToken, token_type_hint: "refresh_token" })).status).toBe(200);
    await expect.poll(() => refresh.isEnabled(), { timeout: 10_000 }).toBe(true);
    await refresh.click();
    await expect.poll(() => card.getByTestId("status").textContent()).toBe("Sign-in needed");
    expect(await card.getByTestId("status-text").textContent()).toBe("Tokenkeeper dev provider no longer accepts this connection — access was revoked or has expired. Reconnect to continue.");
    await card.getByRole("button", { name: "Reconnect" }).waitFor();
    expect(await card.textContent()).not.toMatch(/invalid_grant|reauth_required|no expiry/);
    await state(page, "dashboard-revoked");

    // Disconnect, by keyboard: the dialog names the account; Escape keeps it, Enter on Disconnect removes it.
    const disconnect = card.getByRole("button", { name: "Disconnect" });
    await tabTo(page, disconnect);
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("alertdialog");
    await expect.poll(() => dialog.getByRole("heading").textContent()).toBe("Disconnect Tokenkeeper dev provider · ada@dev.tokenkeeper.test?");
    await state(page, "disconnect-dialog");
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.count()).toBe(0);
    await expect.poll(() => disconnect.evaluate((node) => node === document.activeElement)).toBe(true);
    await page.keyboard.press("Enter");
    await tabTo(page, dialog.getByRole("button", { name: "Disconnect" }), 3);
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator('article[data-provider="oidc"]').count()).toBe(0);
    await page.getByTestId("empty-state").getByRole("heading", { name: "Connect your first account" }).waitFor();
    await state(page, "dashboard-empty");

    // Connect again from the empty state; then sign-out says, before it happens, what it will do.
    await page.getByRole("button", { name: "Connect Tokenkeeper dev provider" }).click();
    await loginAndConsent(page, "ada");
    await expect.poll(() => card.getByTestId("status").textContent()).toBe("Connected");
    await collectIssuedTokens();
    const signOut = page.getByRole("button", { name: "Sign out" });
    await tabTo(page, signOut);
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByTestId("sign-out-consequence").textContent()).toBe("Background access stops for your 1 connected account: apps can’t act for you until you sign in again.");
    await state(page, "sign-out-dialog");
    await page.getByRole("alertdialog").getByRole("button", { name: "Sign out" }).press("Enter");
    await page.waitForURL(`${server.url}/`);
    expect(await accountRow("ada")).toMatchObject({ status: "signed_out", access_token: null, refresh_token: null });
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/signin\?callbackUrl=/);

    await page.goto(`${server.url}/no-such-page`);
    await page.getByRole("heading", { name: "This page doesn’t exist" }).waitFor();
    await state(page, "not-found");

    expect(issued.size).toBeGreaterThanOrEqual(4);
    expect(seen.length).toBeGreaterThan(5);
    expectNoLeaks();
  });

  it("at 390 px: the landing page, sign-in, and an operator's dashboard, none cut sideways", async () => {
    const narrow = await newPage(390);
    const overflow = () => narrow.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await narrow.goto(server.url);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await state(narrow, "landing");
    await narrow.goto(`${server.url}/dashboard`);
    await narrow.waitForURL(/\/signin\?callbackUrl=/);
    await state(narrow, "signin");
    await signInAtDevProvider(narrow, "grace");
    await narrow.locator('article[data-provider="oidc"]').waitFor();
    await narrow.getByRole("heading", { name: "Operator panel" }).waitFor();
    // Let the cron run once, so the panel has a sweep row to lay out.
    await fetch(`${server.url}/api/cron/refresh-tokens`, { headers: { authorization: `Bearer ${stack.env.CRON_SECRET}` } });
    // A service fetches grace's token with an API key (#20): the panel lists it.
    const accountId = (await narrow.locator('article[data-provider="oidc"]').getAttribute("data-account"))!;
    const { key } = await createApiKey(stack.db, { name: "billing-worker", scopes: ["tokens:read"] });
    const handed = await fetch(`${server.url}/api/v1/accounts/${accountId}/token?purpose=monthly%20invoice`, { headers: { authorization: `Bearer ${key}` } });
    expect(handed.status).toBe(200);
    // The provider refuses the app's client credentials on a refresh (#18): the panel says the provider is paused.
    stack.oidc!.faults.token = ({ grantType }) => (grantType === "refresh_token" ? { status: 401, error: "invalid_client" } : undefined);
    const refreshStatus = () => narrow.evaluate(async (id) => (await fetch(`/api/accounts/${id}/refresh`, { method: "POST" })).status, accountId);
    try {
      await expect.poll(refreshStatus, { timeout: 10_000 }).toBe(502);
    } finally {
      stack.oidc!.faults.token = undefined;
    }
    await narrow.reload();
    await narrow.getByText("Last sweep runs").waitFor();
    await expect.poll(() => narrow.getByTestId("provider-misconfigured").textContent()).toMatch(/^Tokenkeeper dev provider refuses this app’s client credentials since/);
    await expect.poll(() => narrow.getByTestId("token-audit").textContent()).toContain("monthly invoice");
    expect(await narrow.getByTestId("token-audit").textContent()).toContain("billing-worker");
    await expect.poll(() => narrow.locator('article[data-provider="oidc"]').getByTestId("status").textContent()).toBe("Connected");
    expect(await overflow()).toBeLessThanOrEqual(0);
    // The Sign out button sits apart from the first card.
    const signOutBox = (await narrow.getByRole("button", { name: "Sign out" }).boundingBox())!;
    const cardBox = (await narrow.locator('article[data-provider="oidc"]').boundingBox())!;
    expect(cardBox.y - (signOutBox.y + signOutBox.height)).toBeGreaterThanOrEqual(16);
    await state(narrow, "operator");
    await narrow.setViewportSize({ width: 1280, height: 900 });
    await state(narrow, "operator");
    await narrow.setViewportSize({ width: 390, height: 900 });
    // The credentials work again: a refresh that goes through lifts the pause.
    await expect.poll(refreshStatus, { timeout: 10_000 }).toBe(200);
    await narrow.reload();
    await narrow.getByText("Last sweep runs").waitFor();
    expect(await narrow.getByTestId("provider-misconfigured").count()).toBe(0);
    await narrow.getByRole("button", { name: "Sign out" }).click();
    await state(narrow, "sign-out-dialog");
    await collectIssuedTokens();
    expectNoLeaks();
  });

  it("links a second account at the same provider, asks one for more access, and calls its API through the proxy (#12)", async () => {
    const page = await newPage(1280);
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/signin\?callbackUrl=/);
    await signInAtDevProvider(page, "lin");

    // The provider's login again, though an account there is linked already.
    await page.getByRole("button", { name: "Connect Tokenkeeper dev provider" }).click();
    await loginAndConsent(page, "lin-work");
    const cards = page.locator("article[data-account]");
    await expect.poll(() => cards.count()).toBe(2);
    expect(await cards.evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-identity")))).toStrictEqual(["lin@dev.tokenkeeper.test", "lin-work@dev.tokenkeeper.test"]);

    const work = page.locator('article[data-identity="lin-work@dev.tokenkeeper.test"]');
    expect(await work.getByTestId("scopes").textContent()).not.toContain("phone");
    await work.getByText("Ask for more access").click();
    await work.getByLabel("Scopes, separated by spaces").fill("phone");
    await work.getByRole("button", { name: "Request more access" }).click();
    await loginAndConsent(page, "lin-work", AFTER_CONSENT);
    await expect.poll(() => page.locator('article[data-identity="lin-work@dev.tokenkeeper.test"]').getByTestId("scopes").textContent()).toContain("phone");
    expect(await page.locator('article[data-identity="lin@dev.tokenkeeper.test"]').getByTestId("scopes").textContent()).not.toContain("phone");
    await collectIssuedTokens();
    // Two cards and the connect card fill the 1280 px row.
    const boxes = await Promise.all([cards.nth(0), cards.nth(1), page.getByTestId("link-card")].map(async (box) => (await box.boundingBox())!));
    expect(new Set(boxes.map((box) => Math.round(box.y))).size).toBe(1);
    expect(boxes[2]!.x + boxes[2]!.width - boxes[0]!.x).toBeGreaterThan(1100);
    await state(page, "dashboard-accounts");
    // The ids /api/v1 names them by, shown with a copy button (#20); an unmatched /api path is a JSON 404.
    const workRow = await stack.db.account.findUniqueOrThrow({ where: { id: (await work.getAttribute("data-account"))! } });
    expect([await page.getByTestId("user-id").textContent(), await work.getByTestId("account-id").textContent()]).toStrictEqual([workRow.userId, workRow.id]);
    expect(await page.evaluate(async () => (await fetch("/api/v1/nope", { method: "POST" })).json())).toMatchObject({ error: "not_found" });

    // The proxy, through next start, as each account; an escape is a 400.
    const accountId = await work.getAttribute("data-account");
    const proxied = await page.evaluate(async (id) => {
      const response = await fetch(`/api/accounts/${id}/proxy/me`);
      return { status: response.status, body: await response.json() };
    }, accountId);
    expect(proxied).toMatchObject({ status: 200, body: { sub: "lin-work", phone_number: "+1 555 0100" } });
    const ambiguous = await page.evaluate(async () => (await fetch("/api/accounts/oidc/proxy/me")).status);
    expect(ambiguous).toBe(409);
    const traversal = await page.evaluate(async (id) => (await fetch(`/api/accounts/${id}/proxy/%252e%252e/admin`)).status, accountId);
    expect(traversal).toBe(400);

    await page.setViewportSize({ width: 390, height: 900 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await state(page, "dashboard-accounts");

    await collectIssuedTokens();
    expectNoLeaks();
  });

  it("reconnects a second account as itself, refuses more access finished as another login, and keeps scopes across a later sign-in (#20)", async () => {
    const page = await newPage(1280);
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/signin\?callbackUrl=/);
    await signInAtDevProvider(page, "rex");
    await page.getByRole("button", { name: "Connect Tokenkeeper dev provider" }).click();
    await loginAndConsent(page, "rex-work");
    const work = () => page.locator('article[data-identity="rex-work@dev.tokenkeeper.test"]');
    await work().waitFor();
    const workId = (await work().getAttribute("data-account"))!;

    // The provider revoked it: "Reconnect" runs the consent for this account, hinted, and it comes back as the same id.
    await stack.db.account.update({ where: { id: workId }, data: { status: "reauth_required", lastError: "invalid_grant: grant revoked" } });
    await page.reload();
    await expect.poll(() => work().getByTestId("status").textContent()).toBe("Sign-in needed");
    await work().getByRole("button", { name: "Reconnect" }).click();
    await page.waitForURL(/\/interaction\//);
    expect(await page.locator('input[name="login"]').inputValue()).toBe("rex-work@dev.tokenkeeper.test");
    await loginAndConsent(page, "rex-work", AFTER_CONSENT);
    await expect.poll(() => work().getByTestId("status").textContent()).toBe("Connected");
    expect(await work().getAttribute("data-account")).toBe(workId);
    await state(page, "dashboard-reconnected");
    await page.setViewportSize({ width: 390, height: 900 });
    await state(page, "dashboard-reconnected");
    await page.setViewportSize({ width: 1280, height: 900 });

    // More access, but the user types another login at the provider: refused, nothing stored.
    const versionBefore = (await stack.db.account.findUniqueOrThrow({ where: { id: workId } })).tokenVersion;
    await work().getByText("Ask for more access").click();
    await work().getByLabel("Scopes, separated by spaces").fill("phone");
    await work().getByRole("button", { name: "Request more access" }).click();
    await loginAndConsent(page, "rex-intruder", /\/api\/v1\/consent\/refused/);
    await page.getByRole("heading", { name: "That was another account" }).waitFor();
    expect(await page.textContent("body")).toContain("rex-work@dev.tokenkeeper.test");
    await state(page, "consent-refused");
    await page.setViewportSize({ width: 390, height: 900 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
    await state(page, "consent-refused");
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(await stack.db.account.findFirst({ where: { providerAccountId: "rex-intruder" } })).toBeNull();
    expect((await stack.db.account.findUniqueOrThrow({ where: { id: workId } })).tokenVersion).toBe(versionBefore);

    // As itself: the scope is added; a later ordinary sign-in as that account keeps it.
    await page.goto(`${server.url}/dashboard`);
    await work().getByText("Ask for more access").click();
    await work().getByLabel("Scopes, separated by spaces").fill("phone");
    await work().getByRole("button", { name: "Request more access" }).click();
    await loginAndConsent(page, "rex-work", AFTER_CONSENT);
    await expect.poll(() => work().getByTestId("scopes").textContent()).toContain("phone");
    await page.getByRole("button", { name: "Connect Tokenkeeper dev provider" }).click();
    await loginAndConsent(page, "rex-work");
    expect((await stack.db.account.findUniqueOrThrow({ where: { id: workId } })).tokenVersion).toBeGreaterThan(versionBefore + 1);
    await page.reload();
    await expect.poll(() => work().getByTestId("scopes").textContent()).toContain("phone");
    expect(await page.locator("article[data-account]").count()).toBe(2);

    await collectIssuedTokens();
    expectNoTokenSeen();
  });

  it("keeps a user from being hurt through the app: framing, navigation to the proxy, cross-site changes, floods, spans (#16)", async () => {
    const page = await newPage(1280);
    const callbackUrls: string[] = [];
    page.on("request", (request) => {
      if (request.url().includes("/api/auth/callback/")) callbackUrls.push(request.url());
    });
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/signin\?callbackUrl=/);
    await signInAtDevProvider(page, "hal");
    const accountId = (await page.locator("article[data-account]").first().getAttribute("data-account"))!;

    // Pages: never framed, no Referer to other sites, nothing sniffed.
    const dashboard = (await page.goto(`${server.url}/dashboard`))!.headers();
    for (const [path, headers] of [
      ["/dashboard", dashboard],
      ...(await Promise.all(["/", "/signin"].map(async (path) => [path, Object.fromEntries((await fetch(`${server.url}${path}`)).headers)] as const))),
    ] as const) {
      expect(headers["x-frame-options"], path).toBe("DENY");
      expect(headers["referrer-policy"], path).toBe("same-origin");
      expect(headers["x-content-type-options"], path).toBe("nosniff");
    }

    // The proxy: a fetch from the page is data, sandboxed and never cached; a navigation is refused.
    const fetched = await page.evaluate(async (id) => {
      const response = await fetch(`/api/accounts/${id}/proxy/me?secret_query=q-5550100`);
      return { status: response.status, csp: response.headers.get("content-security-policy"), cache: response.headers.get("cache-control"), sniff: response.headers.get("x-content-type-options") };
    }, accountId);
    expect(fetched).toStrictEqual({ status: 200, csp: "sandbox; default-src 'none'", cache: "private, no-store", sniff: "nosniff" });
    const navigation = await page.goto(`${server.url}/api/accounts/${accountId}/proxy/me`);
    expect(navigation!.status()).toBe(403);
    expect(await navigation!.json()).toMatchObject({ error: "forbidden" });
    await page.goto(`${server.url}/dashboard`);

    // A page on the same site but another origin (another port of localhost: the Lax
    // cookie goes along) submits a form that would disconnect the account.
    const attacker: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end(`<form method="post" action="${server.url}/api/accounts/${accountId}/refresh"></form><script>document.forms[0].submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(PORT + 1, resolve));
    try {
      const refused = page.waitForResponse((response) => response.url().endsWith(`/api/accounts/${accountId}/refresh`));
      await page.goto(`http://localhost:${PORT + 1}/`);
      const answer = await refused;
      expect(answer.status()).toBe(403);
      expect(await answer.json()).toStrictEqual({ error: "forbidden", message: "cross-site requests may not change anything here" });
    } finally {
      attacker.closeAllConnections();
      attacker.close();
    }
    await page.goto(`${server.url}/dashboard`);

    // {error, message} for a 405 and a 413; past the proxy rate, 429 with Retry-After.
    const misc = await page.evaluate(async (id) => {
      const wrongMethod = await fetch(`/api/accounts/${id}/refresh`);
      const tooLarge = await fetch(`/api/accounts/${id}/scopes`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ scopes: ["x".repeat(20_000)] }) });
      const flood = await Promise.all(Array.from({ length: 30 }, () => fetch(`/api/accounts/${id}/proxy/me`)));
      const limited = flood.find((response) => response.status === 429);
      return {
        wrongMethod: { status: wrongMethod.status, body: await wrongMethod.json() },
        tooLarge: { status: tooLarge.status, body: await tooLarge.json() },
        limited: limited ? { retryAfter: limited.headers.get("retry-after"), body: await limited.json() } : null,
        served: flood.filter((response) => response.status === 200).length,
      };
    }, accountId);
    expect(misc.wrongMethod).toMatchObject({ status: 405, body: { error: "method_not_allowed", message: expect.any(String) } });
    expect(misc.tooLarge).toMatchObject({ status: 413, body: { error: "payload_too_large", message: expect.any(String) } });
    // Two calls above, then what is left of the burst of 20 (plus at most one refill).
    expect(misc.limited).toMatchObject({ retryAfter: expect.stringMatching(/^([1-9]|10)$/), body: { error: "rate_limited" } });
    expect(misc.served).toBeGreaterThanOrEqual(18);
    expect(misc.served).toBeLessThanOrEqual(19);

    // Spans, as the collector got them: the callback and the proxy call are there, their queries are not.
    expect(callbackUrls.length).toBeGreaterThanOrEqual(1);
    const callback = new URL(callbackUrls[0]!);
    const secrets = [callback.searchParams.get("code")!, callback.searchParams.get("state")!, "q-5550100"];
    await expect.poll(() => otlp.spans().some((span) => JSON.stringify(span).includes("/proxy/me")), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => otlp.spans().some((span) => JSON.stringify(span).includes("/api/auth/callback/oidc")), { timeout: 20_000 }).toBe(true);
    await collectIssuedTokens();
    const exported = otlp.bodies.join("\n");
    for (const secret of [...secrets, ...issued]) expect(exported.includes(secret), `a span carries ${secret.slice(0, 6)}…`).toBe(false);
  });

  it("with TOKENKEEPER_SIGN_OUT=keep, says so before sign-out and keeps background access after it (#22)", async () => {
    await server.stop();
    server = await start({ ...serverEnv, TOKENKEEPER_SIGN_OUT: "keep" }, PORT);
    const page = await newPage(1280);
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/signin\?callbackUrl=/);
    await signInAtDevProvider(page, "kim");
    await expect.poll(() => page.locator('article[data-provider="oidc"]').getByTestId("status").textContent()).toBe("Connected");
    const before = await accountRow("kim");

    // The status follows the countdown while the page stays open (the dev provider's tokens live 600 s).
    await page.clock.install();
    await page.reload();
    const card = page.locator('article[data-provider="oidc"]');
    await expect.poll(() => card.getByTestId("status").textContent()).toBe("Connected");
    await page.clock.fastForward("09:00");
    await expect.poll(() => card.getByTestId("status").textContent()).toBe("Renewing soon");
    await page.clock.fastForward("01:30");
    await expect.poll(() => card.getByTestId("status").textContent()).toBe("Renews on next use");
    expect(await card.getByTestId("countdown").textContent()).toBe("expired");
    await state(page, "dashboard-expired");

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect
      .poll(() => page.getByTestId("sign-out-consequence").textContent())
      .toBe("Your 1 connected account keeps background access: apps go on acting for you. Disconnect an account to stop that.");
    await state(page, "sign-out-dialog-keep");
    await page.getByRole("alertdialog").getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${server.url}/`);
    expect(await accountRow("kim")).toMatchObject({ status: "active", tokenVersion: before.tokenVersion, refresh_token: before.refresh_token });
  });
});
