import "server-only";
import { Webhook } from "standardwebhooks";
import { afterResponse } from "./background";
import type { Db } from "./db/client";
import { claimDueDeliveries, recordAttempt, type Outbox } from "./db/outbox";
import type { WebhookDelivery } from "./db/generated/client";
import type { WebhookConfig } from "./env";
import { logger } from "./log";

// Sends the outbox (lib/db/outbox.ts) to TOKENKEEPER_WEBHOOK_URL, signed as Standard
// Webhooks says: the same webhook-id on every attempt, retried with exponential
// back-off (30 s, 1 min, 2 min … at most an hour apart) for 24 hours. A receiver gets
// one second to answer, and it is asked after the response, so a receiver that is
// down or hangs never holds up a user or a sweep.

const log = logger("webhooks");

export const DELIVERY_TIMEOUT_MS = 1_000;
const GIVE_UP_AFTER_MS = 24 * 60 * 60 * 1000;
const SENDERS = 8;

/** The outbox setting the statements take: events are written only when a receiver is set. */
export const outboxOf = (config: WebhookConfig | null): Outbox => (config ? { failingAfter: config.failingAfter } : null);

/** The wait before attempt `attempts + 1`: 30 s doubling, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 60 * 60 * 1000);
}

/** What a receiver is sent: the event as the body, the row's id as webhook-id. */
export function webhookBody(delivery: Pick<WebhookDelivery, "type" | "createdAt" | "payload">): string {
  return JSON.stringify({ type: delivery.type, timestamp: delivery.createdAt.toISOString(), data: delivery.payload });
}

async function send(config: WebhookConfig, signer: Webhook, delivery: WebhookDelivery): Promise<{ status: number | null; error: string | null }> {
  const body = webhookBody(delivery);
  const sentAt = new Date();
  try {
    const response = await fetch(config.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": delivery.id,
        "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
        "webhook-signature": signer.sign(delivery.id, sentAt, body),
      },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return { status: response.status, error: response.ok ? null : `answered ${response.status}` };
  } catch (error) {
    const name = (error as Error).name;
    return { status: null, error: name === "TimeoutError" ? `no answer within ${DELIVERY_TIMEOUT_MS} ms` : `unreachable (${(error as Error).message})` };
  }
}

export type DeliveryReport = { attempted: number; delivered: number; failed: number; gaveUp: number };

/** Sends every due delivery once (at most `limit`), SENDERS at a time, and records each attempt. */
export async function deliverDueWebhooks(db: Db, config: WebhookConfig, { limit = 100, now = () => new Date() } = {}): Promise<DeliveryReport> {
  const report: DeliveryReport = { attempted: 0, delivered: 0, failed: 0, gaveUp: 0 };
  const due = await claimDueDeliveries(db, { limit, leaseMs: 30_000 });
  const signer = new Webhook(config.secret);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(SENDERS, due.length) }, async () => {
      while (next < due.length) {
        const delivery = due[next++]!;
        const { status, error } = await send(config, signer, delivery);
        const delivered = error === null;
        const at = now();
        const giveUp = !delivered && at.getTime() - delivery.createdAt.getTime() >= GIVE_UP_AFTER_MS;
        await recordAttempt(db, { id: delivery.id, status, error, delivered, giveUp, nextAttemptAt: new Date(at.getTime() + retryDelayMs(delivery.attempts + 1)) });
        report.attempted += 1;
        if (delivered) report.delivered += 1;
        else if (giveUp) report.gaveUp += 1;
        else report.failed += 1;
        if (!delivered) log.warn(giveUp ? "webhook.given_up" : "webhook.failed", { deliveryId: delivery.id, type: delivery.type, attempt: delivery.attempts + 1, status, error });
      }
    }),
  );
  return report;
}

/**
 * What sends the due events once the current response has gone out (Next's after()),
 * or at once in the background outside a request; does nothing without a receiver.
 * Never awaited by its caller.
 */
export function webhookDelivery(db: Db, config: WebhookConfig | null): () => void {
  return () => {
    if (config) afterResponse("webhook.delivery_crashed", () => deliverDueWebhooks(db, config));
  };
}
