import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { listAccounts } from "@/lib/accounts";
import { operatorPanel } from "@/lib/operator";
import { epochNow, issueTokens, seedAccount, type SeededAccount } from "../../testkit/grants";
import { eventually } from "../support/eventually";
import { engineFor, startTestStack, sweepOnce, type TestStack } from "../../testkit/stack";
import { startWebhookReceiver, type Receiver } from "../support/webhook-receiver";

// #18, against the real dev provider (rotating, refusing reuse) and a real database:
// errors by what they mean, refresh-token lifetimes, the warning before a grant
// dies, and a sweep whose next due time is always ahead.
let stack: TestStack;
let receiver: Receiver;
let seq = 0;
beforeAll(async () => {
  stack = await startTestStack("pglite");
  receiver = await startWebhookReceiver();
  Object.assign(process.env, { TOKENKEEPER_WEBHOOK_URL: receiver.url, TOKENKEEPER_WEBHOOK_SECRET: receiver.secret });
});
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});
beforeEach(async () => {
  stack.oidc!.faults.token = undefined;
  stack.oidc!.faults.tokenResponse = undefined;
  // Each test sweeps only its own account.
  await stack.db.account.updateMany({ data: { status: "signed_out" } });
  await stack.db.providerPause.deleteMany();
});

const engine = () => engineFor(stack);
const load = (id: string) => stack.db.account.findUniqueOrThrow({ where: { id } });
const refreshes = () => stack.oidc!.stats.refreshRequests;
const eventsFor = (type: string, provider = "oidc") => receiver.received.filter((r) => r.event?.type === type && r.event.data.provider === provider);
async function seeded(expiresAt = epochNow() - 10, fields: Record<string, unknown> = {}): Promise<SeededAccount> {
  const login = `lifetime-${++seq}`;
  return seedAccount(stack.db, stack, login, await issueTokens(stack, login), expiresAt, fields);
}

describe("errors by what they mean (#18)", () => {
  it("ends the grant on interaction_required: reauth_required, the event, and no more provider calls", async () => {
    const account = await seeded();
    stack.oidc!.faults.token = ({ grantType }) => (grantType === "refresh_token" ? { status: 400, error: "interaction_required" } : undefined);
    await expect(engine().getAccessToken(account.userId, "oidc")).rejects.toMatchObject({ code: "reauth_required" });
    expect(await load(account.accountId)).toMatchObject({ status: "reauth_required", failureCount: 1 });
    const event = await eventually(() => eventsFor("account.reauth_required").find((r) => r.event!.data.accountId === account.accountId));
    expect(String(event.event!.data.error)).toMatch(/interaction_required/);
    // The sweep leaves it alone: the user must come back.
    const before = refreshes();
    await stack.db.account.update({ where: { id: account.accountId }, data: { nextSweepAt: new Date(0) } });
    expect((await sweepOnce(stack, { engine: engine() })).claimed).toBe(0);
    expect(refreshes()).toBe(before);
  });

  it("pauses the provider on invalid_client without marking the account, tells operators once, and lifts the pause when a refresh works", async () => {
    const account = await seeded();
    const other = await seeded();
    stack.oidc!.faults.token = ({ grantType }) => (grantType === "refresh_token" ? { status: 401, error: "invalid_client" } : undefined);
    await expect(engine().getAccessToken(account.userId, "oidc")).rejects.toMatchObject({ code: "provider_misconfigured", status: 502 });
    // Not the user's fault: the account is as it was, lease freed.
    expect(await load(account.accountId)).toMatchObject({ status: "active", failureCount: 0, lastError: null, retryAfter: null, leaseOwner: null });
    const pause = await stack.db.providerPause.findUniqueOrThrow({ where: { provider: "oidc" } });
    expect(pause.pausedUntil.getTime()).toBeGreaterThan(Date.now() + 10 * 60_000);
    expect(pause.error).toMatch(/invalid_client.*AUTH_OIDC_ID/);

    // The sweep leaves the whole provider alone, in this run and the next.
    const before = refreshes();
    await stack.db.account.updateMany({ where: { id: { in: [account.accountId, other.accountId] } }, data: { nextSweepAt: new Date(0) } });
    expect(await sweepOnce(stack, { engine: engine() })).toMatchObject({ claimed: 0, refreshed: 0 });
    expect(refreshes()).toBe(before);
    expect((await operatorPanel()).misconfiguredProviders).toStrictEqual([expect.objectContaining({ provider: "oidc", pausedUntil: pause.pausedUntil.toISOString() })]);

    // A second refusal (on demand) extends the pause quietly: one event in all.
    await expect(engine().getAccessToken(other.userId, "oidc")).rejects.toMatchObject({ code: "provider_misconfigured" });
    const [event] = await eventually(() => (eventsFor("provider.misconfigured").length ? eventsFor("provider.misconfigured") : undefined));
    expect(event!.event!.data).toMatchObject({ provider: "oidc", accountId: account.accountId, pausedUntil: expect.stringMatching(/Z$/) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(eventsFor("provider.misconfigured")).toHaveLength(1);

    // The credentials work again: the next refresh succeeds and lifts the pause.
    stack.oidc!.faults.token = undefined;
    await engine().getAccessToken(account.userId, "oidc");
    expect(await stack.db.providerPause.count()).toBe(0);
    expect((await operatorPanel()).misconfiguredProviders).toStrictEqual([]);
  });
});

describe("refresh-token lifetimes and the warning before a grant dies (#18)", () => {
  const DAY_S = 86_400;
  /** Every refresh answer says the refresh token dies at `end` (absolute) or `seconds` after the answer (sliding). */
  const refreshTokenLife = (life: () => number) => {
    stack.oidc!.faults.tokenResponse = (body, request) => (request.grantType === "refresh_token" ? { ...body, refresh_token_expires_in: life() } : body);
  };

  it("stores refresh_token_expires_in as an instant and keeps the account alive before it", async () => {
    const account = await seeded(epochNow() - 10, { lastUsedAt: null });
    refreshTokenLife(() => 2 * DAY_S);
    await stack.db.account.update({ where: { id: account.accountId }, data: { lastUsedAt: null, nextSweepAt: new Date(0) } });
    expect((await sweepOnce(stack, { engine: engine() })).refreshed).toBe(1);
    const row = await load(account.accountId);
    expect(Math.abs(row.refreshTokenExpiresAt!.getTime() - (Date.now() + 2 * DAY_S * 1000))).toBeLessThan(5_000);
    // Idle: kept alive a cron interval plus the margin before the refresh token dies, not after 7 days.
    expect(row.nextSweepAt.getTime()).toBeLessThanOrEqual(row.refreshTokenExpiresAt!.getTime() - 30 * 60_000);
    expect(row.reauthBy).toBeNull();
  });

  it("sends account.reauth_upcoming once, 7 days before an absolute end, and lists it as reauthBy", async () => {
    const end = Date.now() + 5 * DAY_S * 1000;
    // As a refresh an hour ago left it: the refresh token dies at `end`, whatever is refreshed.
    const account = await seeded(epochNow() - 10, { refreshedAt: new Date(Date.now() - 3_600_000), refreshTokenExpiresAt: new Date(end) });
    refreshTokenLife(() => Math.round((end - Date.now()) / 1000));
    await engine().getAccessToken(account.userId, "oidc");
    const row = await load(account.accountId);
    expect(Math.abs(row.reauthBy!.getTime() - end)).toBeLessThan(2_000);
    const [warning] = await eventually(() => {
      const found = eventsFor("account.reauth_upcoming").filter((r) => r.event!.data.accountId === account.accountId);
      return found.length ? found : undefined;
    });
    expect(warning!).toMatchObject({ verified: true, event: { data: { userId: account.userId, status: "active", reauthBy: row.reauthBy!.toISOString() } } });

    // Later refreshes (the end unchanged) send nothing more.
    for (let i = 0; i < 2; i++) {
      await stack.db.account.update({ where: { id: account.accountId }, data: { expires_at: epochNow() - 10, refreshedAt: new Date(Date.now() - 3_600_000) } });
      await engine().getAccessToken(account.userId, "oidc");
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(eventsFor("account.reauth_upcoming").filter((r) => r.event!.data.accountId === account.accountId)).toHaveLength(1);
    const [summary] = (await listAccounts(account.userId)).filter((item) => item.id === account.accountId);
    expect(summary!.reauthBy).toBe(row.reauthBy!.toISOString());
  });

  it("sees no end in a sliding lifetime that each refresh extends", async () => {
    const account = await seeded(epochNow() - 10, { refreshedAt: new Date(Date.now() - 3_600_000), refreshTokenExpiresAt: new Date(Date.now() + 3 * DAY_S * 1000 - 3_600_000) });
    refreshTokenLife(() => 3 * DAY_S);
    await engine().getAccessToken(account.userId, "oidc");
    expect(await load(account.accountId)).toMatchObject({ reauthBy: null, reauthWarnedAt: null });
  });
});

describe("the sweep's next due time is always ahead (#18)", () => {
  it("refreshes 5-minute tokens at 80 % of their life under a 1-minute cron: 2 refreshes in 10 ticks of 3 runs each", async () => {
    stack.oidc!.faults.tokenResponse = (body, request) => (request.grantType === "refresh_token" ? { ...body, expires_in: 300 } : body);
    const account = await seeded(epochNow() + 300);
    const policy = { intervalSeconds: 60 };
    // Signed in just now with a 5-minute token: due at 80 % of its life.
    const fresh = await load(account.accountId);
    expect(fresh.nextSweepAt.getTime()).toBeGreaterThan(Date.now());
    await stack.db.account.update({ where: { id: account.accountId }, data: { nextSweepAt: new Date(Date.now() + 240_000) } });
    const before = refreshes();
    for (let tick = 1; tick <= 10; tick++) {
      // A minute passes for this account.
      await stack.backend.query({
        query: `UPDATE "Account" SET "refreshedAt" = "refreshedAt" - interval '60 s', "lastUsedAt" = "lastUsedAt" - interval '60 s',
                       "nextSweepAt" = "nextSweepAt" - interval '60 s', expires_at = expires_at - 60 WHERE id = $1`,
        params: [account.accountId],
      });
      // The cron delivered three times in the same tick.
      for (let run = 0; run < 3; run++) await sweepOnce(stack, { engine: engine(), ...policy });
      const row = await load(account.accountId);
      expect(row.nextSweepAt.getTime()).toBeGreaterThan(Date.now());
    }
    expect(refreshes() - before).toBe(2);
  });
});
