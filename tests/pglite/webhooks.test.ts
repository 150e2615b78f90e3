import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { disconnect } from "@/lib/accounts";
import { webhookConfig } from "@/lib/env";
import { operatorPanel } from "@/lib/operator";
import { getAccessToken } from "@/lib/tokens";
import { decryptToken, parseKeyring } from "@/lib/tokens/crypto";
import { deliverDueWebhooks, retryDelayMs } from "@/lib/webhooks";
import { signInThroughApp, type Fetcher } from "../../testkit/browserless";
import { APP_URL, appFetcher } from "../support/app";
import { postToProvider } from "../../testkit/grants";
import { eventually } from "../support/eventually";
import { engineFor, startTestStack, sweepOnce, type TestStack } from "../../testkit/stack";
import { startWebhookReceiver, type Receiver } from "../support/webhook-receiver";

// Events, end to end: real sign-ins through Auth.js, a grant really revoked at the
// dev provider, and a receiver that checks every signature with `standardwebhooks`.
let stack: TestStack;
let receiver: Receiver;
let fetcher: Fetcher;
beforeAll(async () => {
  stack = await startTestStack("pglite");
  receiver = await startWebhookReceiver();
  Object.assign(process.env, { TOKENKEEPER_WEBHOOK_URL: receiver.url, TOKENKEEPER_WEBHOOK_SECRET: receiver.secret, TOKENKEEPER_WEBHOOK_FAILING_AFTER: "2" });
  fetcher = await appFetcher();
});
afterAll(async () => {
  await receiver?.close();
  await stack?.stop();
});
beforeEach(() => {
  receiver.mode = "ok";
  stack.oidc!.faults.token = undefined;
});

const account = (login: string) => stack.db.account.findUniqueOrThrow({ where: { provider_providerAccountId: { provider: "oidc", providerAccountId: login } } });
const eventsFor = (accountId: string, type?: string) => receiver.received.filter((r) => r.event?.data.accountId === accountId && (type === undefined || r.event.type === type));
/** The delivery row once `attempts` attempts are recorded. */
const attempted = (id: string, attempts: number) =>
  eventually(async () => {
    const row = await stack.db.webhookDelivery.findUnique({ where: { id } });
    return row && row.attempts >= attempts ? row : undefined;
  });
/** When a delivery's first attempt ended, by the app's clock: it set the next attempt a retry delay after. */
const firstAttemptEnded = (delivery: { nextAttemptAt: Date }) => delivery.nextAttemptAt.getTime() - retryDelayMs(1);

describe("webhooks (#12)", () => {
  it("sends exactly one signed account.reauth_required when the grant dies, and account.recovered on the next sign-in", async () => {
    await signInThroughApp(APP_URL, "hook-revoked", fetcher);
    const row = await account("hook-revoked");
    const refreshToken = await decryptToken(parseKeyring(stack.env.TOKEN_ENCRYPTION_KEYS), row.refresh_token!, row, "refresh_token");
    expect((await postToProvider(stack, "/token/revocation", { token: refreshToken, token_type_hint: "refresh_token" })).status).toBe(200);
    await stack.db.account.update({ where: { id: row.id }, data: { expires_at: 1 } });

    for (let i = 0; i < 3; i++) await expect(getAccessToken(row.userId, "oidc")).rejects.toMatchObject({ code: "reauth_required" });
    const [event] = await eventually(() => (eventsFor(row.id, "account.reauth_required").length ? eventsFor(row.id, "account.reauth_required") : undefined));
    expect(event).toMatchObject({ verified: true, event: { type: "account.reauth_required", data: { accountId: row.id, userId: row.userId, provider: "oidc", status: "reauth_required" } } });
    expect(String(event!.event!.data.error)).toMatch(/invalid_grant/);
    expect(event!.body).not.toContain(refreshToken);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(eventsFor(row.id, "account.reauth_required")).toHaveLength(1);

    await signInThroughApp(APP_URL, "hook-revoked", fetcher);
    const recovered = await eventually(() => eventsFor(row.id, "account.recovered")[0]);
    expect(recovered).toMatchObject({ verified: true, event: { data: { accountId: row.id, status: "active", error: null } } });
  });

  it("sends account.refresh_failing once failures in a row reach the threshold, then account.recovered", async () => {
    await signInThroughApp(APP_URL, "hook-failing", fetcher);
    const row = await account("hook-failing");
    stack.oidc!.faults.token = ({ grantType }) => (grantType === "refresh_token" ? { status: 500 } : undefined);
    for (let failures = 1; failures <= 3; failures++) {
      await stack.db.account.update({ where: { id: row.id }, data: { expires_at: 1, retryAfter: null } });
      await expect(getAccessToken(row.userId, "oidc")).rejects.toMatchObject({ code: "provider_unavailable" });
    }
    await eventually(() => eventsFor(row.id, "account.refresh_failing")[0]);
    expect(eventsFor(row.id, "account.refresh_failing")).toHaveLength(1); // at the second failure, not again at the third
    stack.oidc!.faults.token = undefined;
    await stack.db.account.update({ where: { id: row.id }, data: { retryAfter: null } });
    await getAccessToken(row.userId, "oidc");
    expect(await eventually(() => eventsFor(row.id, "account.recovered")[0])).toMatchObject({ verified: true });
  });

  it("delivers later, under the same webhook-id, to a receiver that was down", async () => {
    await signInThroughApp(APP_URL, "hook-down", fetcher);
    const row = await account("hook-down");
    receiver.mode = "down";
    await disconnect(row.userId, row.id);
    const first = await eventually(() => eventsFor(row.id, "account.disconnected")[0]);
    const delivery = await attempted(first.id, 1);
    expect(delivery).toMatchObject({ attempts: 1, deliveredAt: null, lastStatus: 503 });
    // The first retry is due within a minute.
    expect(delivery.nextAttemptAt.getTime() - Date.now()).toBeLessThanOrEqual(60_000);

    receiver.mode = "ok";
    await stack.db.webhookDelivery.update({ where: { id: first.id }, data: { nextAttemptAt: new Date() } });
    const { GET } = await import("@/app/api/cron/webhooks/route");
    const response = await GET(new Request("http://localhost/api/cron/webhooks", { headers: { authorization: `Bearer ${stack.env.CRON_SECRET}` } }));
    expect(await response.json()).toMatchObject({ delivered: 1 });
    const attempts = eventsFor(row.id, "account.disconnected");
    expect(attempts.map((r) => r.id)).toStrictEqual([first.id, first.id]);
    expect(attempts.every((r) => r.verified)).toBe(true);
    expect(attempts[0]!.body).toBe(attempts[1]!.body);
    expect(await stack.db.webhookDelivery.findUniqueOrThrow({ where: { id: first.id } })).toMatchObject({ attempts: 2, lastStatus: 204 });
  });

  it("lets a hanging receiver hold up neither the request nor a sender by more than a second", async () => {
    await signInThroughApp(APP_URL, "hook-hang", fetcher);
    const row = await account("hook-hang");
    receiver.mode = "hang";
    await disconnect(row.userId, row.id);
    const answeredAt = Date.now();
    const sent = await eventually(() => eventsFor(row.id, "account.disconnected")[0]);
    // The background attempt gives up on the receiver after one second…
    const recorded = await attempted(sent.id, 1);
    expect(recorded).toMatchObject({ attempts: 1, lastError: "no answer within 1000 ms" });
    // …and the request was answered before that: it never waited for the receiver.
    // (Not a stopwatch on the request: its revocations and statements take what the machine takes.)
    expect(answeredAt).toBeLessThan(firstAttemptEnded(recorded));
    // A sender gives up on it after the same second, once.
    await stack.db.webhookDelivery.update({ where: { id: sent.id }, data: { nextAttemptAt: new Date() } });
    expect(await deliverDueWebhooks(stack.db, webhookConfig()!)).toMatchObject({ attempted: 1, failed: 1 });
    expect(await stack.db.webhookDelivery.findUniqueOrThrow({ where: { id: sent.id } })).toMatchObject({ attempts: 2, lastError: "no answer within 1000 ms" });
    expect(eventsFor(row.id, "account.disconnected")).toHaveLength(2);
  });

  it("lets a hanging receiver add nothing to a sweep that writes events", async () => {
    await signInThroughApp(APP_URL, "hook-sweep", fetcher);
    const row = await account("hook-sweep");
    // This account alone is due, so the event it writes is the run's last write.
    await stack.db.account.updateMany({ where: { id: { not: row.id } }, data: { status: "signed_out" } });
    await stack.db.account.update({ where: { id: row.id }, data: { expires_at: Math.floor(Date.now() / 1000) + 60, nextSweepAt: new Date(), failureCount: 3 } });
    receiver.mode = "hang";
    const report = await sweepOnce(stack, { engine: engineFor(stack), horizonSeconds: 300 });
    const sweptAt = Date.now();
    expect(report).toMatchObject({ claimed: 1, refreshed: 1, failed: 0 });
    const recovered = await eventually(() => eventsFor(row.id, "account.recovered")[0]);
    expect(recovered).toMatchObject({ verified: true });
    // The run was over before the delivery of its event gave up on the receiver (one
    // second): it did not wait for it. (Not a stopwatch on the run: its refresh and
    // statements take what the machine takes.)
    const attempt = await attempted(recovered.id, 1);
    expect(attempt.lastError).toBe("no answer within 1000 ms");
    expect(sweptAt).toBeLessThan(firstAttemptEnded(attempt));
  });

  it("gives up after 24 hours, and shows operators the newest deliveries", async () => {
    receiver.mode = "down";
    const stale = await stack.db.webhookDelivery.create({ data: { id: "msg_stale", type: "account.disconnected", payload: { accountId: "gone" }, createdAt: new Date(Date.now() - 25 * 3600_000) } });
    expect(await deliverDueWebhooks(stack.db, webhookConfig()!)).toMatchObject({ gaveUp: 1 });
    expect((await stack.db.webhookDelivery.findUniqueOrThrow({ where: { id: stale.id } })).failedAt).not.toBeNull();
    expect(await deliverDueWebhooks(stack.db, webhookConfig()!)).toMatchObject({ attempted: 0 });
    const panel = await operatorPanel();
    expect(panel.webhooksOn).toBe(true);
    expect(panel.deliveries.find((d) => d.id === stale.id)).toMatchObject({ type: "account.disconnected", state: "given up", attempts: 1 });
    expect(panel.deliveries.some((d) => d.state === "delivered")).toBe(true);
  });
});
