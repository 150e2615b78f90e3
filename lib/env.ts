import "server-only";
import { z } from "zod";
import { configError } from "./errors";

// The one place that reads process.env for Node code. Edge code (auth.config.ts,
// middleware.ts) reads only the few variables it needs, directly.

const optional = z.string().trim().min(1).optional().catch(undefined);

const postgresUrl = z
  .string()
  .trim()
  .refine((value) => {
    try {
      return ["postgres:", "postgresql:"].includes(new URL(value).protocol) && new URL(value).hostname !== "";
    } catch {
      return false;
    }
  }, "must be a postgres:// or postgresql:// URL with a host");

const schema = z.object({
  DATABASE_URL: postgresUrl,
  // Where the Neon driver posts its queries instead of Neon: set by the dev stack
  // (and the operations commands) in front of a database that is not Neon.
  NEON_LOCAL_ENDPOINT: z.url().optional(),
  AUTH_SECRET: z.string().min(16, "must be at least 16 characters"),
  CRON_SECRET: z.string().min(16, "must be at least 16 characters").optional(),
  TOKEN_ENCRYPTION_KEYS: z.string().min(1),
  TOKEN_REFRESH_SKEW_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  TOKEN_FORCED_REFRESH_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(30),
  // Users (by email) who see the operator panel: global counts and sweep history.
  TOKENKEEPER_OPERATOR_EMAILS: z
    .string()
    .default("")
    .transform((value) => value.split(",").map((email) => email.trim().toLowerCase()).filter(Boolean)),
  AUTH_GOOGLE_ID: optional,
  AUTH_GOOGLE_SECRET: optional,
  AUTH_DISCORD_ID: optional,
  AUTH_DISCORD_SECRET: optional,
  AUTH_OIDC_ISSUER: z.url().optional(),
  AUTH_OIDC_ID: optional,
  AUTH_OIDC_SECRET: optional,
  AUTH_OIDC_NAME: optional,
  AUTH_OIDC_API_BASE_URL: z.url().optional(),
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
});

export type Env = z.infer<typeof schema>;

/** Validates the environment; the error names every missing or malformed variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    return source[name] === undefined ? `${name} is not set` : `${name} ${issue.message}`;
  });
  throw configError(`Invalid configuration: ${problems.join("; ")}.`);
}

/**
 * CRON_SECRET alone, unvalidated by the rest: the cron route checks the bearer
 * before anything else, so a caller without it never learns what is misconfigured.
 */
export function cronSecret(): string | undefined {
  const value = process.env.CRON_SECRET?.trim();
  return value && value.length >= 16 ? value : undefined;
}

let cached: Env | undefined;

export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
