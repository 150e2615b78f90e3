import { mkdirSync, writeFileSync } from "node:fs";
import AxeBuilder from "@axe-core/playwright";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptOptional, parseKeyring } from "@/lib/tokens/crypto";
import { postToProvider } from "../support/grants";
import { buildAndStart, start, type NextServer } from "../support/next-server";
import { startTestStack, type TestStack } from "../support/stack";

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
const seen: { url: string; body: string }[] = [];
const issued = new Set<string>();
const axeCounts: Record<string, Record<string, number>> = {};
let serverEnv: Record<string, string>;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startTestStack("pglite", { PORT: String(PORT) }, PORT);
  // A short forced-refresh interval, so the visit can press "Refresh now" soon after signing in.
  serverEnv = { ...stack.env, TOKEN_FORCED_REFRESH_INTERVAL_SECONDS: "3", TOKENKEEPER_OPERATOR_EMAILS: "grace@dev.tokenkeeper.test" };
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
  expect(severe.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`), `axe on ${state}`).toStrictEqual([]);
}

/** The state, seen and checked: a screenshot and axe. */
async function state(page: Page, name: string) {
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

/** At the dev provider: its login form (unless this user's session there is still on), then consent. */
async function loginAndConsent(page: Page, login: string) {
  const form = page.locator('input[name="login"]');
  const consent = page.getByRole("button", { name: "Continue", exact: true });
  await form.or(consent).first().waitFor();
  if (await form.isVisible()) await loginAtProvider(page, login);
  await consent.click();
  await page.waitForURL(`${server.url}/dashboard`);
}

async function loginAtProvider(page: Page, login: string) {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("anything");
  await page.locator('button[type="submit"]').click();
}

const accountRow = (login: string) => stack.db.account.findUniqueOrThrow({ where: { provider_providerAccountId: { provider: "oidc", providerAccountId: login } } });

function expectNoLeaks() {
  for (const { url, body } of seen) {
    for (const token of issued) expect(body.includes(token), `${url} must not contain a token`).toBe(false);
  }
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
    await expect.poll(() => staleCard.getByTestId("card-error").textContent()).toMatch(/^Tokenkeeper dev provider · ada@dev\.tokenkeeper\.test was refreshed moments ago\. You can refresh it again at \d\d:\d\d:\d\d\.$/);
    expect(await staleCard.textContent()).not.toMatch(ISO_TIME);
    await state(stale, "dashboard-refresh-refused");
    await stale.close();

    // "Test a call", by keyboard: the provider's answer, labelled, wrapped.
    const testCall = card.getByRole("button", { name: "Test a call" });
    await tabTo(page, testCall);
    await page.keyboard.press("Enter");
    await expect.poll(() => card.getByTestId("userinfo").textContent()).toContain('"name": "ada"');
    await card.getByText("What Tokenkeeper dev provider says about this account").waitFor();
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
    expect(await card.getByTestId("status-text").textContent()).toBe(
      "Tokenkeeper dev provider no longer accepts this connection — access was revoked or has expired. Reconnect to continue.",
    );
    await card.getByRole("link", { name: "Reconnect" }).waitFor();
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
    await expect.poll(() => page.getByTestId("sign-out-consequence").textContent()).toBe(
      "Background access stops for your 1 connected account: apps can’t act for you until you sign in again.",
    );
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
    await narrow.reload();
    await narrow.getByText("Last sweep runs").waitFor();
    await expect.poll(() => narrow.locator('article[data-provider="oidc"]').getByTestId("status").textContent()).toBe("Connected");
    expect(await overflow()).toBeLessThanOrEqual(0);
    // The Sign out button sits apart from the first card.
    const signOutBox = (await narrow.getByRole("button", { name: "Sign out" }).boundingBox())!;
    const cardBox = (await narrow.locator('article[data-provider="oidc"]').boundingBox())!;
    expect(cardBox.y - (signOutBox.y + signOutBox.height)).toBeGreaterThanOrEqual(16);
    await state(narrow, "operator");
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
    await work.getByRole("button", { name: "Request access" }).click();
    await loginAndConsent(page, "lin-work");
    await expect.poll(() => page.locator('article[data-identity="lin-work@dev.tokenkeeper.test"]').getByTestId("scopes").textContent()).toContain("phone");
    expect(await page.locator('article[data-identity="lin@dev.tokenkeeper.test"]').getByTestId("scopes").textContent()).not.toContain("phone");
    await collectIssuedTokens();
    // Two cards and the connect card fill the 1280 px row.
    const boxes = await Promise.all([cards.nth(0), cards.nth(1), page.getByTestId("link-card")].map(async (box) => (await box.boundingBox())!));
    expect(new Set(boxes.map((box) => Math.round(box.y))).size).toBe(1);
    expect(boxes[2]!.x + boxes[2]!.width - boxes[0]!.x).toBeGreaterThan(1100);
    await state(page, "dashboard-accounts");

    // The proxy, through next start, as each account; an escape is a 400.
    const accountId = await work.getAttribute("data-account");
    const proxied = await page.evaluate(async (id) => {
      const response = await fetch(`/api/accounts/${id}/proxy/me`);
      return { status: response.status, body: await response.json() };
    }, accountId);
    expect(proxied).toMatchObject({ status: 200, body: { sub: "lin-work", phone_number: "+1 555 0100" } });
    const ambiguous = await page.evaluate(async () => (await fetch("/api/accounts/oidc/proxy/me")).status);
    expect(ambiguous).toBe(409);
    const escape = await page.evaluate(async (id) => (await fetch(`/api/accounts/${id}/proxy/%252e%252e/admin`)).status, accountId);
    expect(escape).toBe(400);

    await page.setViewportSize({ width: 390, height: 900 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await state(page, "dashboard-accounts");

    await collectIssuedTokens();
    expectNoLeaks();
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
    await expect.poll(() => page.getByTestId("sign-out-consequence").textContent()).toBe(
      "Your 1 connected account keeps background access: apps go on acting for you. Disconnect an account to stop that.",
    );
    await state(page, "sign-out-dialog-keep");
    await page.getByRole("alertdialog").getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${server.url}/`);
    expect(await accountRow("kim")).toMatchObject({ status: "active", tokenVersion: before.tokenVersion, refresh_token: before.refresh_token });
  });
});
