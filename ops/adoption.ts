// `npm run db:adopt`: takes a database that Auth.js's own @auth/prisma-adapter schema
// made (its documented Prisma schema, provider tokens in plain text) to Tokenkeeper's:
// the schema brought to what our first migration makes and recorded as applied there
// (a baseline, as `prisma migrate resolve --applied` records one), the later
// migrations applied, then every plain-text token encrypted in place, bound to its
// account and column. Nothing is dropped: rows, the team's own tables and migration
// records, Auth.js's Authenticator table stay.
//
// Safe to stop anywhere and run again: the schema step is one script (one implicit
// transaction) that records its own baseline; each account's tokens are rewritten by
// one compare-and-set statement on the plain values it read, and a sealed value is
// never touched again. It reads every stored token before it changes anything, and
// refuses, changing nothing, when one is sealed under a key it is not given.
import { decryptToken, encryptToken, isSealed, keyIdOf, type Keyring, type TokenColumn } from "../lib/tokens/crypto";
import { applyMigrations, CREATE_MIGRATIONS_TABLE, readMigrations, type Migration } from "./migrations";
import type { SqlBackend } from "./sql-backend";

const TOKEN_COLUMNS: TokenColumn[] = ["access_token", "refresh_token", "id_token"];
// What @auth/prisma-adapter reads and writes on Account and User: a table without
// one of these was not made by its schema, and is not guessed at.
const AUTHJS_COLUMNS: Record<string, string[]> = {
  User: ["id", "name", "email", "emailVerified", "image"],
  Account: ["userId", "type", "provider", "providerAccountId", "refresh_token", "access_token", "expires_at", "token_type", "scope", "id_token", "session_state"],
};
const PAGE = 200;

export type AdoptionReport = {
  /** `authjs`: the Auth.js schema was baselined; `tokenkeeper`: it already was ours; `empty`: a new database. */
  schema: "authjs" | "tokenkeeper" | "empty";
  migrationsApplied: string[];
  accounts: number;
  /** Token values encrypted by this run (0 on a second run). */
  tokensEncrypted: number;
  accountsChangedMeanwhile: number;
};

/** A refusal: the message says what could not be read; nothing was changed. */
export class AdoptionRefused extends Error {}

/** An `id` primary key for a table Auth.js keys otherwise (a no-op where it has one). */
const surrogateId = (table: string) => `ALTER TABLE "${table}" ADD COLUMN IF NOT EXISTS "id" TEXT;
UPDATE "${table}" SET "id" = gen_random_uuid()::text WHERE "id" IS NULL;
ALTER TABLE "${table}" ALTER COLUMN "id" SET NOT NULL;
ALTER TABLE "${table}" DROP CONSTRAINT IF EXISTS "${table}_pkey";
ALTER TABLE "${table}" ADD CONSTRAINT "${table}_pkey" PRIMARY KEY ("id");`;

/** The first migration's own steps (Prisma's `-- CreateTable` / `-- CreateIndex` blocks) for tables Auth.js has no part of. */
const tokenkeeperOnlyTables = (init: Migration) =>
  init.sql
    .split(/\n(?=-- )/)
    .filter((step) => step.includes('"SweepRun"'))
    .join("\n");

// Auth.js's schema → what prisma/migrations' first migration makes. Each step is a
// no-op where the database already has its result (older Auth.js schemas had an
// `id` on Account and Session), so one script serves every documented variant.
const bridge = (init: Migration) => `
ALTER TABLE "User" ALTER COLUMN "email" DROP NOT NULL;
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE "User" ADD COLUMN IF NOT EXISTS "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE "User" ALTER COLUMN "updatedAt" DROP DEFAULT;
CREATE UNIQUE INDEX IF NOT EXISTS "User_email_key" ON "User"("email");

-- Account: a surrogate id becomes the primary key (API and dashboard address accounts
-- by it); (provider, providerAccountId) stays unique.
${surrogateId("Account")}
ALTER TABLE "Account"
  ADD COLUMN IF NOT EXISTS "status" TEXT NOT NULL DEFAULT 'active',
  ADD COLUMN IF NOT EXISTS "tokenVersion" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS "leaseOwner" TEXT,
  ADD COLUMN IF NOT EXISTS "leaseUntil" TIMESTAMPTZ(3),
  ADD COLUMN IF NOT EXISTS "refreshedAt" TIMESTAMPTZ(3),
  ADD COLUMN IF NOT EXISTS "failureCount" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS "lastError" TEXT,
  ADD COLUMN IF NOT EXISTS "retryAfter" TIMESTAMPTZ(3),
  ADD COLUMN IF NOT EXISTS "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  ADD COLUMN IF NOT EXISTS "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE "Account" ALTER COLUMN "updatedAt" DROP DEFAULT;
CREATE INDEX IF NOT EXISTS "Account_userId_idx" ON "Account"("userId");
CREATE INDEX IF NOT EXISTS "Account_status_expires_at_idx" ON "Account"("status", "expires_at");
CREATE UNIQUE INDEX IF NOT EXISTS "Account_provider_providerAccountId_key" ON "Account"("provider", "providerAccountId");

${surrogateId("Session")}
ALTER TABLE "Session"
  ADD COLUMN IF NOT EXISTS "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  ADD COLUMN IF NOT EXISTS "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE "Session" ALTER COLUMN "updatedAt" DROP DEFAULT;
CREATE UNIQUE INDEX IF NOT EXISTS "Session_sessionToken_key" ON "Session"("sessionToken");

ALTER TABLE "VerificationToken" DROP CONSTRAINT IF EXISTS "VerificationToken_pkey";
CREATE UNIQUE INDEX IF NOT EXISTS "VerificationToken_identifier_token_key" ON "VerificationToken"("identifier", "token");

${tokenkeeperOnlyTables(init)}

${CREATE_MIGRATIONS_TABLE};
INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, finished_at, applied_steps_count)
VALUES (gen_random_uuid()::text, '${init.checksum}', '${init.name}', 'baselined by npm run db:adopt from the Auth.js Prisma schema', now(), now(), 1);
`;

async function rows(backend: SqlBackend, query: string, params: unknown[] = []): Promise<(string | null)[][]> {
  return (await backend.query({ query, params })).rows;
}

async function tableColumns(backend: SqlBackend, table: string): Promise<Set<string>> {
  const found = await rows(backend, `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`, [table]);
  return new Set(found.map(([name]) => name!));
}

/** Which schema the database holds; refuses a table named like Auth.js's that is not its. */
async function schemaOf(backend: SqlBackend, init: Migration): Promise<AdoptionReport["schema"]> {
  const [[migrationsTable]] = (await rows(backend, `SELECT to_regclass('"_prisma_migrations"')::text`)) as [[string | null]];
  if (migrationsTable) {
    const recorded = await rows(backend, `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = $1 AND finished_at IS NOT NULL AND rolled_back_at IS NULL`, [init.name]);
    if (recorded.length > 0) return "tokenkeeper";
  }
  const account = await tableColumns(backend, "Account");
  if (account.size === 0) return "empty";
  for (const [table, columns] of Object.entries(AUTHJS_COLUMNS)) {
    const present = table === "Account" ? account : await tableColumns(backend, table);
    const missing = columns.filter((column) => !present.has(column));
    if (missing.length > 0) {
      throw new AdoptionRefused(`table "${table}" is not the one @auth/prisma-adapter's schema makes (no column ${missing.map((name) => `"${name}"`).join(", ")}): nothing was changed`);
    }
  }
  return "authjs";
}

type StoredTokens = { key: string[]; provider: string; providerAccountId: string; values: Record<TokenColumn, string | null> };

/** Every account's stored tokens, a page at a time, in the order of `keyColumns`. */
async function* accountTokens(backend: SqlBackend, keyColumns: string[]): AsyncGenerator<StoredTokens> {
  const key = keyColumns.map((column) => `"${column}"`).join(", ");
  let after: (string | null)[] | null = null;
  for (;;) {
    const where = after ? `WHERE (${key}) > (${keyColumns.map((_, i) => `$${i + 1}`).join(", ")})` : "";
    const page = await rows(backend, `SELECT ${key}, provider, "providerAccountId", access_token, refresh_token, id_token FROM "Account" ${where} ORDER BY ${key} LIMIT ${PAGE}`, after ?? []);
    for (const row of page) {
      const [provider, providerAccountId, access_token, refresh_token, id_token] = row.slice(keyColumns.length);
      yield {
        key: row.slice(0, keyColumns.length) as string[],
        provider: provider!,
        providerAccountId: providerAccountId!,
        values: { access_token: access_token ?? null, refresh_token: refresh_token ?? null, id_token: id_token ?? null },
      };
    }
    if (page.length < PAGE) return;
    after = page[page.length - 1]!.slice(0, keyColumns.length);
  }
}

/** Reads every stored token; throws AdoptionRefused naming the first that the keyring cannot open. */
async function checkReadable(backend: SqlBackend, keyring: Keyring, keyColumns: string[]): Promise<number> {
  let accounts = 0;
  for await (const account of accountTokens(backend, keyColumns)) {
    accounts += 1;
    for (const column of TOKEN_COLUMNS) {
      const value = account.values[column];
      if (!value || !isSealed(value)) continue;
      try {
        await decryptToken(keyring, value, account, column);
      } catch (error) {
        throw new AdoptionRefused(
          `the ${column} of ${account.provider} account ${account.providerAccountId} is encrypted, and TOKEN_ENCRYPTION_KEYS cannot open it (key ${keyIdOf(value)}: ${(error as Error).message}): add the key it was written with, then run this again; nothing was changed`,
        );
      }
    }
  }
  return accounts;
}

/**
 * Adopts the database `database` holds (see the top of this file); `keyring` seals the
 * tokens. Throws AdoptionRefused, having changed nothing, when the schema is not
 * Auth.js's or a stored token cannot be read.
 */
export async function adoptDatabase(database: SqlBackend, keyring: Keyring, migrations = readMigrations()): Promise<AdoptionReport> {
  const init = migrations[0];
  if (!init) throw new Error("prisma/migrations is empty");
  const report: AdoptionReport = { schema: "empty", migrationsApplied: [], accounts: 0, tokensEncrypted: 0, accountsChangedMeanwhile: 0 };
  report.migrationsApplied = await applyMigrations(database, migrations, async (backend) => {
    report.schema = await schemaOf(backend, init);
    if (report.schema === "empty") return;
    // Auth.js's Account may have no id yet: its key then is (provider, providerAccountId).
    report.accounts = await checkReadable(backend, keyring, report.schema === "tokenkeeper" ? ["id"] : ["provider", "providerAccountId"]);
    if (report.schema === "authjs") await backend.exec(bridge(init));
  });
  for await (const account of accountTokens(database, ["id"])) {
    const plain = TOKEN_COLUMNS.filter((column) => account.values[column] && !isSealed(account.values[column]!));
    if (plain.length === 0) continue;
    const sealed = { ...account.values };
    for (const column of plain) sealed[column] = await encryptToken(keyring, account.values[column]!, account, column);
    // Compare-and-set on the values read: a sign-in or refresh that wrote meanwhile
    // (sealed already) is never overwritten.
    const { rowCount } = await database.query({
      query: `UPDATE "Account" SET access_token = $2, refresh_token = $3, id_token = $4
              WHERE id = $1 AND access_token IS NOT DISTINCT FROM $5 AND refresh_token IS NOT DISTINCT FROM $6 AND id_token IS NOT DISTINCT FROM $7`,
      params: [account.key[0], sealed.access_token, sealed.refresh_token, sealed.id_token, account.values.access_token, account.values.refresh_token, account.values.id_token],
    });
    if (rowCount === 1) report.tokensEncrypted += plain.length;
    else report.accountsChangedMeanwhile += 1;
  }
  return report;
}
