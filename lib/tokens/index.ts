import "server-only";
import { db } from "../db/client";
import { env, skewByProvider, webhookConfig } from "../env";
import { enabledProviders } from "../providers";
import { keyring } from "./crypto";
import { outboxOf, scheduleWebhookDelivery } from "../webhooks";
import { sweepPolicyFrom, type SweepPolicy } from "./sweep-policy";
import { createTokenEngine, type AccountOptions, type TokenEngine } from "./engine";

export { ReauthRequiredError, ProviderUnavailableError } from "../errors";

// The app's engine: one per process, so single-flight spans every request it serves.
const globalForEngine = globalThis as unknown as { tokenkeeperEngine?: TokenEngine };

export function tokenEngine(): TokenEngine {
  globalForEngine.tokenkeeperEngine ??= createTokenEngine({
    db: db(),
    keyring: keyring(),
    providers: enabledProviders(),
    skewSeconds: env().TOKEN_REFRESH_SKEW_SECONDS,
    skewByProvider: skewByProvider(process.env),
    sweepPolicy: appSweepPolicy(),
    outbox: outboxOf(webhookConfig()),
    onEvents: scheduleWebhookDelivery,
    tokenCacheTtlSeconds: env().TOKEN_CACHE_TTL_SECONDS,
  });
  return globalForEngine.tokenkeeperEngine;
}

/** The sweep policy with this deployment's TOKEN_SWEEP_* settings. */
export function appSweepPolicy(): SweepPolicy {
  const settings = env();
  return sweepPolicyFrom({
    activeDays: settings.TOKEN_SWEEP_ACTIVE_DAYS,
    keepaliveDays: settings.TOKEN_SWEEP_KEEPALIVE_DAYS,
    intervalSeconds: settings.TOKEN_SWEEP_INTERVAL_SECONDS,
    reauthWarningDays: settings.TOKENKEEPER_REAUTH_WARNING_DAYS,
    runCapacity: settings.TOKEN_SWEEP_RUN_CAPACITY,
    maxWorkers: settings.TOKEN_SWEEP_MAX_WORKERS,
  });
}

/**
 * A valid access token for the user at the provider, refreshed if needed. Where the
 * user linked several accounts there, name one: `{ accountId }` (else 409
 * ambiguous_account).
 */
export function getAccessToken(userId: string, provider: string, options?: AccountOptions): Promise<string> {
  return tokenEngine().getAccessToken(userId, provider, options);
}
