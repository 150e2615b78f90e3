import { mkdirSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decryptOptional, parseKeyring } from "@/lib/tokens/crypto";
import { createServer, type Server } from "node:http";
import { buildAndStart, type NextServer } from "../support/next-server";
import { startOtlpReceiver, type OtlpReceiver } from "../support/otlp-receiver";
import { startTestStack, type TestStack } from "../support/stack";

// A person's whole visit, in Debian's Chromium against `next start`: sign in at the
// dev provider, watch the card, refresh, call the API, disconnect, sign out.
const PORT = 3210;
const ARTIFACTS = new URL("../../artifacts/", import.meta.url).pathname;
let stack: TestStack;
let server: NextServer;
let browser: Browser;
let otlp: OtlpReceiver;
const seen: { url: string; body: string }[] = [];
const issued = new Set<string>();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  stack = await startTestStack("pglite", { PORT: String(PORT) }, PORT);
  // A short forced-refresh interval, so the visit can press "Refresh now" soon after signing in.
  // Spans go to a loopback collector (OTLP/HTTP JSON), read back by the #16 test.
  otlp = await startOtlpReceiver();
  const telemetry = { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "200" };
  // A proxy rate that refills slowly (one call per 10 s, bursts of 20), so the #16 flood meets it whatever the machine's speed.
  server = await buildAndStart({ ...stack.env, ...telemetry, TOKEN_FORCED_REFRESH_INTERVAL_SECONDS: "3", TOKENKEEPER_OPERATOR_EMAILS: "grace@dev.tokenkeeper.test", TOKENKEEPER_PROXY_RATE: "0.1,20" }, PORT);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});
afterAll(async () => {
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
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  page.on("response", async (response) => {
    if (!response.url().startsWith(server.url)) return;
    const type = response.headers()["content-type"] ?? "";
    if (/json|html|text\/x-component/.test(type)) seen.push({ url: response.url(), body: await response.text().catch(() => "") });
  });
  return page;
}

/** From the sign-in page: the dev provider's login and consent forms, back to /dashboard. */
async function signInAtDevProvider(page: Page, login: string) {
  await page.getByRole("button", { name: /Sign in with Tokenkeeper dev provider/ }).click();
  await loginAndConsent(page, login);
}

/** At the dev provider: its login form (after it ends another user's session, by itself), then consent. */
async function loginAndConsent(page: Page, login: string, backAt: string | RegExp = `${server.url}/dashboard`) {
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("anything");
  await page.locator('button[type="submit"]').click();
  await page.getByRole("button", { name: "Continue" }).click();
  await page.waitForURL(backAt);
}

/** Back on the dashboard after a consent for one account (its callback URL carries the consent's nonce). */
const AFTER_CONSENT = /\/dashboard\?consent=/;

describe("the dashboard in Chromium", () => {
  it("signs in, refreshes, calls the API, disconnects and signs out, showing no token", async () => {
    const page = await newPage(1280);
    await page.goto(server.url);
    await page.screenshot({ path: `${ARTIFACTS}landing-desktop.png`, fullPage: true });
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/signin\?callbackUrl=/);
    await signInAtDevProvider(page, "ada");

    const card = page.locator('article[data-provider="oidc"]');
    await expect.poll(() => card.getByTestId("status").textContent()).toBe("Active");
    await expect.poll(() => card.getByTestId("countdown").textContent()).toMatch(/\d+ min \d\d s/);
    await collectIssuedTokens();
    await page.screenshot({ path: `${ARTIFACTS}dashboard-desktop.png`, fullPage: true });

    // ada is no operator: no panel, in the page or in anything the browser received.
    expect(await page.getByRole("heading", { name: "Operator panel" }).count()).toBe(0);
    expect(seen.some(({ body }) => body.includes("Last sweep runs") || body.includes("expiringWithinHour"))).toBe(false);

    // Just signed in: "Refresh now" waits out the interval (#11), then works.
    const refreshedBefore = await card.getByTestId("refreshed-at").locator("time").getAttribute("datetime");
    await expect.poll(() => card.getByTestId("refresh").textContent()).toMatch(/^Refresh again in \d s$/);
    expect(await card.getByTestId("refresh").isDisabled()).toBe(true);
    await card.getByRole("button", { name: "Refresh now" }).click({ timeout: 10_000 });
    await expect.poll(() => card.getByTestId("refreshed-at").locator("time").getAttribute("datetime")).not.toBe(refreshedBefore);
    await collectIssuedTokens();

    await card.getByRole("button", { name: "Call the provider's API" }).click();
    await expect.poll(() => card.getByTestId("userinfo").textContent()).toContain('"name": "ada"');

    // A new browser context has no session: grace, an operator, signs in there, at 375 px.
    const narrow = await newPage(375);
    await narrow.goto(`${server.url}/dashboard`);
    await narrow.waitForURL(/\/signin\?callbackUrl=/);
    await signInAtDevProvider(narrow, "grace");
    await narrow.locator('article[data-provider="oidc"]').waitFor();
    await narrow.getByRole("heading", { name: "Operator panel" }).waitFor();
    const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await narrow.screenshot({ path: `${ARTIFACTS}dashboard-375.png`, fullPage: true });
    await collectIssuedTokens();

    page.once("dialog", (dialog) => void dialog.accept());
    await card.getByRole("button", { name: "Disconnect" }).click();
    await expect.poll(() => page.locator('article[data-provider="oidc"]').count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-disconnected.png`, fullPage: true });

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${server.url}/`);
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/signin\?callbackUrl=/);

    expect(issued.size).toBeGreaterThanOrEqual(4);
    expect(seen.length).toBeGreaterThan(5);
    expectNoTokenSeen();
    for (const token of issued) expect(server.output().includes(token), "server logs must not contain a token").toBe(false);
  });

  it("links a second account at the same provider, asks one for more access, and calls its API through the proxy (#12)", async () => {
    const page = await newPage(1280);
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/signin\?callbackUrl=/);
    await signInAtDevProvider(page, "lin");

    // The provider's login again, though an account there is linked already.
    await page.getByRole("button", { name: "Link an account at Tokenkeeper dev provider" }).click();
    await loginAndConsent(page, "lin-work");
    const cards = page.locator("article[data-account]");
    await expect.poll(() => cards.count()).toBe(2);
    expect(await cards.evaluateAll((nodes) => nodes.map((node) => node.getAttribute("data-identity")))).toStrictEqual(["lin@dev.tokenkeeper.test", "lin-work@dev.tokenkeeper.test"]);
    await expect.poll(() => page.getByRole("heading", { name: "Tokenkeeper dev provider · lin-work@dev.tokenkeeper.test" }).count()).toBe(1);

    const work = page.locator('article[data-identity="lin-work@dev.tokenkeeper.test"]');
    expect(await work.getByTestId("scopes").textContent()).not.toContain("phone");
    await work.getByPlaceholder("scopes, e.g. phone").fill("phone");
    await work.getByRole("button", { name: "Request more access" }).click();
    await loginAndConsent(page, "lin-work", AFTER_CONSENT);
    await expect.poll(() => page.locator('article[data-identity="lin-work@dev.tokenkeeper.test"]').getByTestId("scopes").textContent()).toContain("phone");
    expect(await page.locator('article[data-identity="lin@dev.tokenkeeper.test"]').getByTestId("scopes").textContent()).not.toContain("phone");
    await collectIssuedTokens();
    await page.screenshot({ path: `${ARTIFACTS}dashboard-accounts-desktop.png`, fullPage: true });

    // The proxy, through next start, as each account; an escape is a 400.
    const accountId = await page.locator('article[data-identity="lin-work@dev.tokenkeeper.test"]').getAttribute("data-account");
    const proxied = await page.evaluate(async (id) => {
      const response = await fetch(`/api/accounts/${id}/proxy/me`);
      return { status: response.status, body: await response.json() };
    }, accountId);
    expect(proxied).toMatchObject({ status: 200, body: { sub: "lin-work", phone_number: "+1 555 0100" } });
    const ambiguous = await page.evaluate(async () => (await fetch("/api/accounts/oidc/proxy/me")).status);
    expect(ambiguous).toBe(409);
    const escape = await page.evaluate(async (id) => (await fetch(`/api/accounts/${id}/proxy/%252e%252e/admin`)).status, accountId);
    expect(escape).toBe(400);

    await page.setViewportSize({ width: 375, height: 900 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-accounts-375.png`, fullPage: true });

    await collectIssuedTokens();
    expectNoTokenSeen();
    for (const token of issued) expect(server.output().includes(token), "server logs must not contain a token").toBe(false);
  });

  it("reconnects a second account as itself, refuses more access finished as another login, and keeps scopes across a later sign-in (#20)", async () => {
    const page = await newPage(1280);
    await page.goto(`${server.url}/dashboard`);
    await page.waitForURL(/\/signin\?callbackUrl=/);
    await signInAtDevProvider(page, "rex");
    await page.getByRole("button", { name: "Link an account at Tokenkeeper dev provider" }).click();
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
    await expect.poll(() => work().getByTestId("status").textContent()).toBe("Active");
    expect(await work().getAttribute("data-account")).toBe(workId);
    await page.screenshot({ path: `${ARTIFACTS}dashboard-reconnected.png`, fullPage: true });

    // More access, but the user types another login at the provider: refused, nothing stored.
    const versionBefore = (await stack.db.account.findUniqueOrThrow({ where: { id: workId } })).tokenVersion;
    await work().getByPlaceholder("scopes, e.g. phone").fill("phone");
    await work().getByRole("button", { name: "Request more access" }).click();
    await loginAndConsent(page, "rex-intruder", /\/api\/v1\/consent\/refused/);
    await page.getByRole("heading", { name: "That was another account" }).waitFor();
    expect(await page.textContent("body")).toContain("rex-work@dev.tokenkeeper.test");
    await page.screenshot({ path: `${ARTIFACTS}consent-refused.png`, fullPage: true });
    expect(await stack.db.account.findFirst({ where: { providerAccountId: "rex-intruder" } })).toBeNull();
    expect((await stack.db.account.findUniqueOrThrow({ where: { id: workId } })).tokenVersion).toBe(versionBefore);

    // As itself: the scope is added; a later ordinary sign-in as that account keeps it.
    await page.goto(`${server.url}/dashboard`);
    await work().getByPlaceholder("scopes, e.g. phone").fill("phone");
    await work().getByRole("button", { name: "Request more access" }).click();
    await loginAndConsent(page, "rex-work", AFTER_CONSENT);
    await expect.poll(() => work().getByTestId("scopes").textContent()).toContain("phone");
    await page.getByRole("button", { name: "Link an account at Tokenkeeper dev provider" }).click();
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
    for (const [path, headers] of [["/dashboard", dashboard], ...(await Promise.all(["/", "/signin"].map(async (path) => [path, Object.fromEntries((await fetch(`${server.url}${path}`)).headers)] as const)))] as const) {
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
});
