import "server-only";
import { z } from "zod";
import { configError } from "./errors";
import { decimalInteger } from "./params";
import { envNames } from "./providers/descriptor";
import { configuredProviders, DESCRIPTORS } from "./providers/registry";
import type { ConfiguredProvider, ProviderEnv } from "./providers/types";
import { sessionSecretList } from "./session-check";

// The one module that reads process.env, and the one definition of how each variable
// is parsed: the app's Config (loadConfig) and the subset the operations commands read
// (loadOperationsConfig). The few exceptions (edge code, which must not bundle zod and
// every provider; tools outside the app) are listed with their reasons in
// tests/unit/env-readers.unit.test.ts, which fails on any other reader.

type Source = Record<string, string | undefined>;

/** The most requests a second one API key may be given (TOKENKEEPER_API_KEY_RATE, or its own --rate). */
export const MAX_KEY_RATE = 10_000;
/** The most proxy calls a second one user may be given (TOKENKEEPER_PROXY_RATE; bursts up to twice that). */
const MAX_PROXY_RATE = 1_000;

const optional = z.string().trim().min(1).optional().catch(undefined);

/**
 * Every provider's variables, from the registry (the catalogue and Auth.js's other
 * providers): AUTH_<ID>_ID and _SECRET, _ISSUER where the provider reads one, and its
 * extra ones. Derived, so no provider's variables can be dropped by a schema that
 * forgot them (issue #17).
 */
function providerVariables() {
  const shape: Record<string, z.ZodType<string | undefined>> = {};
  for (const descriptor of DESCRIPTORS) {
    const names = envNames(descriptor.id);
    shape[names.id] = optional;
    shape[names.secret] = optional;
    if (descriptor.issuer) shape[names.issuer] = z.url().optional();
    for (const [name, kind] of Object.entries(descriptor.extraEnv ?? {})) shape[name] = kind === "url" ? z.url().optional() : optional;
  }
  return shape;
}

const postgresUrl = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    if (!URL.canParse(value)) return ctx.addIssue({ code: "custom", message: "is not a valid URL: expected postgresql://user:password@host:port/database" });
    const url = new URL(value);
    if (!["postgres:", "postgresql:"].includes(url.protocol) || !url.hostname) {
      ctx.addIssue({ code: "custom", message: `must be a postgres:// or postgresql:// URL with a host, not "${url.protocol}//…"` });
    }
  });

// The cron routes' bearer, trimmed (a pasted value may end in a newline), at least 16 characters.
const cronSecretValue = z.string().trim().min(16, "must be at least 16 characters");

const schema = z.object({
  DATABASE_URL: postgresUrl,
  // Where the Neon driver posts its queries instead of Neon: set by the dev stack
  // (and the operations commands) in front of a database that is not Neon.
  NEON_LOCAL_ENDPOINT: z.url().optional(),
  AUTH_SECRET: z.string().min(16, "must be at least 16 characters"),
  // The app's own address behind a proxy that rewrites Host (as Auth.js reads it): also what same-origin means.
  AUTH_URL: z.url().optional(),
  CRON_SECRET: cronSecretValue.optional(),
  TOKEN_ENCRYPTION_KEYS: z.string().min(1),
  TOKEN_REFRESH_SKEW_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  TOKEN_FORCED_REFRESH_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(30),
  // How long a fresh access token is handed out from memory (lib/tokens/token-cache.ts); 0 turns it off.
  TOKEN_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  // The sweep policy (lib/tokens/sweep-policy.ts): what "active" means, and how often idle refresh tokens are used.
  TOKEN_SWEEP_ACTIVE_DAYS: z.coerce.number().min(0).max(365).default(7),
  TOKEN_SWEEP_KEEPALIVE_DAYS: z.coerce.number().min(0.01).max(180).default(7),
  // How often the cron runs the sweep (vercel.json: every 10 minutes): keep-alives run this much earlier.
  TOKEN_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(600),
  // account.reauth_upcoming this many days before a grant's absolute end.
  TOKENKEEPER_REAUTH_WARNING_DAYS: z.coerce.number().min(0).max(365).default(7),
  // Fan-out: what one sweep run is expected to finish, and how many more to start at most.
  TOKEN_SWEEP_RUN_CAPACITY: z.coerce.number().int().min(1).max(1_000_000).default(1_000),
  TOKEN_SWEEP_MAX_WORKERS: z.coerce.number().int().min(0).max(64).default(4),
  // Users (by email) who see the operator panel: global counts and sweep history.
  TOKENKEEPER_OPERATOR_EMAILS: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((email) => email.trim().toLowerCase())
        .filter(Boolean),
    ),
  // Requests a second each API key may make (bursts of twice that), unless the key has its own rate.
  TOKENKEEPER_API_KEY_RATE: decimalInteger(1, MAX_KEY_RATE).default(25),
  // The per-user proxy rate: calls a second, then the burst ("10,20"; the burst defaults to twice the rate).
  // Bounded: every proxy call is a provider call, and a provider's quota is per app.
  TOKENKEEPER_PROXY_RATE: z
    .string()
    .default("10,20")
    .transform((value, ctx) => {
      const match = /^\s*(\d+(?:\.\d+)?)\s*(?:,\s*(\d+)\s*)?$/.exec(value);
      const perSecond = Number(match?.[1]);
      const burst = match?.[2] === undefined ? Math.max(1, Math.ceil(perSecond * 2)) : Number(match[2]);
      if (!match || !(perSecond >= 0.01 && perSecond <= MAX_PROXY_RATE) || !(burst >= 1 && burst <= 2 * MAX_PROXY_RATE)) {
        ctx.addIssue({ code: "custom", message: `must be "<calls a second>[,<burst>]" with 0.01 to ${MAX_PROXY_RATE} calls a second and a burst of 1 to ${2 * MAX_PROXY_RATE}, e.g. "10,20"` });
        return z.NEVER;
      }
      return { perSecond, burst };
    }),
  ...providerVariables(),
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
});

export type Env = z.infer<typeof schema>;

/** `raw` through `shape`; the `config` error names every missing or malformed variable. */
function validate<T extends z.ZodType>(shape: T, raw: Source): z.infer<T> {
  // A variable set to nothing (`KEY=` in .env.local, an empty dashboard field) is unset:
  // coerced, "" would be the number 0 (no refresh margin, no token cache, no workers).
  const source = Object.fromEntries(Object.entries(raw).filter(([, value]) => value === undefined || value.trim() !== ""));
  const result = shape.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    return source[name] === undefined ? `${name} is not set` : `${name} ${issue.message}`;
  });
  throw configError(`Invalid configuration: ${problems.join("; ")}.`);
}

/** Validates the environment; the error names every missing or malformed variable. */
export function parseEnv(raw: Source): Env {
  return validate(schema, raw);
}

const skewValue = z.coerce.number().int().min(0).max(86_400);

/** TOKEN_REFRESH_SKEW_SECONDS_<PROVIDER> (e.g. _GOOGLE), by provider id; each is checked like the global one. */
export function skewByProvider(source: Source): Record<string, number> {
  const skews: Record<string, number> = {};
  for (const [name, value] of Object.entries(source)) {
    const provider = /^TOKEN_REFRESH_SKEW_SECONDS_([A-Z0-9_]+)$/.exec(name)?.[1];
    if (!provider || value === undefined || value.trim() === "") continue;
    const parsed = skewValue.safeParse(value);
    if (!parsed.success) throw configError(`${name} must be a whole number of seconds from 0 to 86400, not "${value}".`);
    skews[provider.toLowerCase()] = parsed.data;
  }
  return skews;
}

/**
 * CRON_SECRET alone, unvalidated by the rest: the cron route checks the bearer
 * before anything else, so a caller without it never learns what is misconfigured.
 */
export function cronSecret(): string | undefined {
  const parsed = cronSecretValue.safeParse(process.env.CRON_SECRET);
  return parsed.success ? parsed.data : undefined;
}

// Plain http is accepted for this machine alone: anywhere else the payload and its signature would cross the network readable.
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
// Standard Webhooks: a secret of 24 to 64 random bytes.
const MIN_WEBHOOK_SECRET_BYTES = 24;

const webhookSchema = z.object({
  TOKENKEEPER_WEBHOOK_URL: z
    .url({ protocol: /^https?$/ })
    .refine((value) => new URL(value).protocol === "https:" || LOOPBACK_HOSTS.has(new URL(value).hostname), "must be an https:// URL (plain http only for localhost, 127.0.0.1 or [::1])"),
  TOKENKEEPER_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/]+={0,2}$/, "must be a Standard Webhooks secret: whsec_ and base64")
    .refine(
      (value) => Buffer.from(value.slice("whsec_".length), "base64").length >= MIN_WEBHOOK_SECRET_BYTES,
      `must hold at least ${MIN_WEBHOOK_SECRET_BYTES} random bytes (whsec_ + base64 of 24 to 64 bytes)`,
    ),
  TOKENKEEPER_WEBHOOK_FAILING_AFTER: z.coerce.number().int().min(1).max(100).default(5),
});

export type WebhookConfig = { url: string; secret: string; failingAfter: number };

/**
 * Where events go, or null when TOKENKEEPER_WEBHOOK_URL is unset (no events are
 * written then). Part of the one Config (loadConfig), read once per process.
 */
export function webhookConfig(source: Source = process.env): WebhookConfig | null {
  if (!source.TOKENKEEPER_WEBHOOK_URL?.trim()) return null;
  const result = webhookSchema.safeParse(source);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0]);
    throw configError(source[name] === undefined ? `${name} is not set (TOKENKEEPER_WEBHOOK_URL is)` : `${name} ${issue.message}`);
  }
  const { TOKENKEEPER_WEBHOOK_URL: url, TOKENKEEPER_WEBHOOK_SECRET: secret, TOKENKEEPER_WEBHOOK_FAILING_AFTER: failingAfter } = result.data;
  return { url, secret, failingAfter };
}

/**
 * Everything the app is configured with, validated at once: the environment, the
 * session secrets, the enabled providers, the per-provider refresh margins and where
 * events go (null: no events). What createTokenkeeper (lib/tokenkeeper.ts) builds the
 * app from. Throws a `config` error naming every missing or malformed variable.
 */
export type Config = Env & {
  /** AUTH_SECRET, then AUTH_SECRET_1..3 (older ones still accepted): newest first, the list the middleware reads too. */
  sessionSecrets: string[];
  /** The providers whose Auth.js variables are set, in button order (lib/providers/registry.ts). */
  providers: ConfiguredProvider[];
  skewByProvider: Record<string, number>;
  webhook: WebhookConfig | null;
};

export function loadConfig(source: Source = process.env): Config {
  const env = parseEnv(source);
  return {
    ...env,
    sessionSecrets: sessionSecretList(source),
    // From the validated variables: a malformed issuer URL is a named config error, not a provider silently left out.
    providers: configuredProviders(env as unknown as ProviderEnv),
    skewByProvider: skewByProvider(source),
    webhook: webhookConfig(source),
  };
}

/**
 * What the operations commands (ops/: db:migrate, db:adopt, db:new-migration, keys:*,
 * tokens:reencrypt) and the dev stack read, parsed as the app parses the same
 * variables. DATABASE_URL unset: the embedded database in TOKENKEEPER_HOME.
 */
const operationsSchema = schema.pick({ DATABASE_URL: true, TOKEN_ENCRYPTION_KEYS: true }).partial().extend({
  // Where the embedded database and the generated secrets live (default: .tokenkeeper/ in the checkout).
  TOKENKEEPER_HOME: optional,
  // Set by Vercel on its builds: there the embedded database is refused.
  VERCEL: optional,
  // db:new-migration's server when DATABASE_URL is unset: the test suites' one.
  TEST_POSTGRES_URL: postgresUrl.optional(),
});

export type OperationsConfig = z.infer<typeof operationsSchema>;

/** The operations commands' subset of the environment; throws a `config` error naming what is malformed. */
export function loadOperationsConfig(source: Source = process.env): OperationsConfig {
  return validate(operationsSchema, source);
}

export type SignOutMode = "clear" | "keep";

/**
 * TOKENKEEPER_SIGN_OUT: what sign-out does to the user's stored provider tokens.
 * `clear` (default, the Auth.js pattern): every linked account loses background access
 * until the user signs in again. `keep`: background access goes on; the user stops it
 * per account with Disconnect. Read on each call.
 * Throws a `config` AppError for any other value.
 */
export function signOutMode(source: Source = process.env): SignOutMode {
  const value = source.TOKENKEEPER_SIGN_OUT?.trim().toLowerCase() || "clear";
  if (value === "clear" || value === "keep") return value;
  throw configError(`TOKENKEEPER_SIGN_OUT must be "clear" or "keep", not "${source.TOKENKEEPER_SIGN_OUT}".`);
}
