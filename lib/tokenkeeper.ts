import "server-only";
import { createDb, type Db } from "./db/client";
import type { Outbox } from "./db/outbox";
import { loadConfig, type Config, type WebhookConfig } from "./env";
import { specsById, type ProviderSpec } from "./providers";
import { parseKeyring, type Keyring } from "./tokens/crypto";
import { createTokenEngine, type EngineOptions, type TokenEngine } from "./tokens/engine";
import { sweepPolicyFrom, type SweepPolicy } from "./tokens/sweep-policy";
import { outboxOf, webhookDelivery } from "./webhooks";

// The composition root: the app is wired here and nowhere else. From one validated
// Config come the database client, the keyring, the enabled providers, the sweep
// policy, the events and the token engine; routes, auth.ts, the services, the
// operations commands, the benchmarks and the tests take what they need from it.

/** Events (Standard Webhooks, lib/webhooks.ts): written with the changes they report, sent after the response. */
export type Events = {
  /** Where events go; null: no events are written. */
  webhook: WebhookConfig | null;
  /** The setting every statement that writes events takes (null: off). */
  outbox: Outbox;
  /** Call after a statement wrote `count` events: they are sent once the response has gone out. */
  written(count: number): void;
};

export type Tokenkeeper = {
  config: Config;
  db: Db;
  keyring: Keyring;
  /** The enabled providers, by id. */
  providers: Map<string, ProviderSpec>;
  /** When the sweep refreshes what (TOKEN_SWEEP_*): built once, used by the engine, sign-in and the cron routes. */
  sweepPolicy: SweepPolicy;
  events: Events;
  engine: TokenEngine;
};

/** What a test or a benchmark may put in place of the configured parts. */
export type TokenkeeperParts = { db?: Db; engine?: Partial<EngineOptions> };

/** Builds the app from `config`: one database client, one keyring, one engine (single-flight spans all it serves). */
export function createTokenkeeper(config: Config, parts: TokenkeeperParts = {}): Tokenkeeper {
  const db = parts.db ?? createDb(config.DATABASE_URL, config.NEON_LOCAL_ENDPOINT);
  const keyring = parseKeyring(config.TOKEN_ENCRYPTION_KEYS);
  const providers = specsById(config.providers);
  const sweepPolicy = sweepPolicyFrom({
    activeDays: config.TOKEN_SWEEP_ACTIVE_DAYS,
    keepaliveDays: config.TOKEN_SWEEP_KEEPALIVE_DAYS,
    intervalSeconds: config.TOKEN_SWEEP_INTERVAL_SECONDS,
    reauthWarningDays: config.TOKENKEEPER_REAUTH_WARNING_DAYS,
    runCapacity: config.TOKEN_SWEEP_RUN_CAPACITY,
    maxWorkers: config.TOKEN_SWEEP_MAX_WORKERS,
  });
  const deliver = webhookDelivery(db, config.webhook);
  const events: Events = {
    webhook: config.webhook,
    outbox: outboxOf(config.webhook),
    written: (count) => {
      if (count > 0) deliver();
    },
  };
  const engine = createTokenEngine({
    db,
    keyring,
    providers,
    skewSeconds: config.TOKEN_REFRESH_SKEW_SECONDS,
    skewByProvider: config.skewByProvider,
    sweepPolicy,
    outbox: events.outbox,
    onEvents: deliver,
    tokenCacheTtlSeconds: config.TOKEN_CACHE_TTL_SECONDS,
    ...parts.engine,
  });
  return { config, db, keyring, providers, sweepPolicy, events, engine };
}

// One per process, on globalThis: Next's dev reloads re-evaluate modules, and `next
// build` bundles lib/ once for the route handlers and again for the pages and server
// actions. Whichever copy asks first builds it, so its errors are recognised by kind
// across copies (lib/errors.ts) and its token cache is forgotten through any copy
// (lib/tokens/token-cache.ts); tests/pglite/bundle-copies.test.ts holds both.
const globalForApp = globalThis as unknown as { tokenkeeper?: Tokenkeeper };

/** The app of this process, built from the environment on first use (a `config` error names what is wrong). */
export function tokenkeeper(): Tokenkeeper {
  globalForApp.tokenkeeper ??= createTokenkeeper(loadConfig());
  return globalForApp.tokenkeeper;
}
