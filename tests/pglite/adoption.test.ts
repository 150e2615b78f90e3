import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdoptionRefused, adoptDatabase } from "@/ops/adoption";
import { applyMigrations, readMigrations } from "@/ops/migrations";
import { openPglite, type SqlBackend } from "@/ops/sql-backend";
import { decryptToken, encryptToken, generateKey, isSealed, parseKeyring, type TokenColumn } from "@/lib/tokens/crypto";
import { loadConfig } from "@/lib/env";
import { createTokenkeeper } from "@/lib/tokenkeeper";
import { startNeonEndpoint } from "@/ops/neon-endpoint";
import { createAuthjsDatabase, snapshot, type PlainAccount } from "../support/authjs-database";
import { scratchDir } from "../../testkit/scratch";

// `npm run db:adopt`'s work on an embedded database built from Auth.js's own Prisma
// schema (#22). The README's command itself runs in tests/procedures.
let dir: string;
let backend: SqlBackend;
let accounts: PlainAccount[];
const key = generateKey();
const keyring = parseKeyring(key);
const COLUMNS: TokenColumn[] = ["access_token", "refresh_token", "id_token"];

beforeEach(async () => {
  // Removed when the test ends, after afterEach, so also when closing a database throws.
  dir = scratchDir("tokenkeeper-adopt-");
  backend = await openPglite(join(dir, "pglite"));
  accounts = await createAuthjsDatabase(backend);
});
afterEach(async () => {
  await backend.close();
});

/** Columns, indexes and constraints of every table but Auth.js's Authenticator, as text. */
async function schemaOf(database: SqlBackend) {
  const of = async (query: string) => (await database.query({ query, params: [] })).rows.map((row) => row.join(" | "));
  return {
    columns: await of(`SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '') FROM information_schema.columns
                       WHERE table_schema = 'public' AND table_name <> 'Authenticator' ORDER BY 1, 2`),
    indexes: await of(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'Authenticator' ORDER BY 1`),
    constraints: await of(`SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '"Authenticator"' ORDER BY 1`),
  };
}

const stored = async () =>
  (
    await backend.query({ query: `SELECT id, provider, "providerAccountId", access_token, refresh_token, id_token, status FROM "Account" ORDER BY provider, "providerAccountId"`, params: [] })
  ).rows.map(([id, provider, providerAccountId, access_token, refresh_token, id_token, status]) => ({
    id,
    provider: provider!,
    providerAccountId: providerAccountId!,
    access_token,
    refresh_token,
    id_token,
    status,
  }));

describe("adopting an Auth.js + Prisma database (#22)", () => {
  it("baselines the schema, applies the migrations and seals every plain-text token, readable as its own account's", async () => {
    const report = await adoptDatabase(backend, keyring);
    expect(report).toMatchObject({ schema: "authjs", accounts: 3, tokensEncrypted: 7, accountsChangedMeanwhile: 0 });
    expect(report.migrationsApplied).toStrictEqual(
      readMigrations()
        .slice(1)
        .map((migration) => migration.name),
    );
    const rows = await stored();
    expect(rows).toHaveLength(3);
    for (const plain of accounts) {
      const row = rows.find((r) => r.provider === plain.provider && r.providerAccountId === plain.providerAccountId)!;
      expect(row.status).toBe("active");
      for (const column of COLUMNS) {
        if (plain[column] === null) expect(row[column]).toBeNull();
        else {
          expect(isSealed(row[column]!)).toBe(true);
          expect(await decryptToken(keyring, row[column]!, row, column)).toBe(plain[column]);
        }
      }
    }
    // Nothing lost: the user rows, the old session, the team's migration record, Auth.js's Authenticator table.
    expect((await backend.query({ query: `SELECT count(*) FROM "User"`, params: [] })).rows).toStrictEqual([["2"]]);
    expect((await backend.query({ query: `SELECT "sessionToken" FROM "Session"`, params: [] })).rows).toStrictEqual([["legacy-session"]]);
    expect((await backend.query({ query: `SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name`, params: [] })).rows.flat()).toStrictEqual([
      "20240301120000_authjs",
      ...readMigrations().map((m) => m.name),
    ]);
    expect((await backend.query({ query: `SELECT to_regclass('"Authenticator"')::text`, params: [] })).rows).toStrictEqual([['"Authenticator"']]);
    // Tokenkeeper's own migrations find nothing left to do.
    expect(await applyMigrations(backend)).toStrictEqual([]);

    // The app, built as a deployment builds it (the adopting key, Google and Discord
    // enabled), hands out through its own driver the adopted tokens that are still valid.
    const url = "postgresql://tokenkeeper:adopt@localhost/tokenkeeper";
    const endpoint = await startNeonEndpoint(backend, { connectionString: url });
    const app = createTokenkeeper(
      loadConfig({
        DATABASE_URL: url,
        NEON_LOCAL_ENDPOINT: endpoint.url,
        AUTH_SECRET: "adoption-suite-secret-0123456789",
        TOKEN_ENCRYPTION_KEYS: key,
        AUTH_GOOGLE_ID: "id",
        AUTH_GOOGLE_SECRET: "secret",
        AUTH_DISCORD_ID: "id",
        AUTH_DISCORD_SECRET: "secret",
      }),
    );
    try {
      expect(await app.engine.getAccessToken("user-ada@example.com", "google")).toBe(accounts[0]!.access_token);
      expect(await app.engine.getAccessToken("user-ada@example.com", "discord")).toBe(accounts[1]!.access_token);
    } finally {
      await app.db.$disconnect();
      await endpoint.close();
    }
  });

  it("leaves exactly the schema Tokenkeeper's migrations make, beside Auth.js's Authenticator table", async () => {
    await adoptDatabase(backend, keyring);
    const fresh = await openPglite(join(dir, "fresh"));
    try {
      await applyMigrations(fresh);
      expect(await schemaOf(backend)).toStrictEqual(await schemaOf(fresh));
    } finally {
      await fresh.close();
    }
  });

  it("changes nothing when run again", async () => {
    await adoptDatabase(backend, keyring);
    const before = await snapshot(backend);
    expect(await adoptDatabase(backend, keyring)).toMatchObject({ schema: "tokenkeeper", migrationsApplied: [], accounts: 3, tokensEncrypted: 0 });
    expect(await snapshot(backend)).toBe(before);
  });

  it("finishes what a run stopped halfway through the tokens left, sealing each value once", async () => {
    await adoptDatabase(backend, keyring);
    // As if the run stopped before the last account: its tokens are plain text again.
    const grace = accounts.find((a) => a.providerAccountId === "41771983423143937")!;
    await backend.query({
      query: `UPDATE "Account" SET access_token = $1, refresh_token = $2 WHERE "providerAccountId" = $3`,
      params: [grace.access_token, grace.refresh_token, grace.providerAccountId],
    });
    const sealedElsewhere = (await stored()).filter((row) => row.providerAccountId !== grace.providerAccountId);
    expect(await adoptDatabase(backend, keyring)).toMatchObject({ tokensEncrypted: 2 });
    const after = await stored();
    expect(after.filter((row) => row.providerAccountId !== grace.providerAccountId)).toStrictEqual(sealedElsewhere);
    const row = after.find((r) => r.providerAccountId === grace.providerAccountId)!;
    expect(await decryptToken(keyring, row.refresh_token!, row, "refresh_token")).toBe(grace.refresh_token);
  });

  it("refuses, changing nothing, a token sealed under a key it is not given", async () => {
    const other = parseKeyring(generateKey());
    const google = accounts[0]!;
    const foreign = await encryptToken(other, "sealed-elsewhere", google, "refresh_token");
    await backend.query({ query: `UPDATE "Account" SET refresh_token = $1 WHERE provider = 'google'`, params: [foreign] });
    const before = await snapshot(backend);
    const refusal = await adoptDatabase(backend, keyring).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(AdoptionRefused);
    expect((refusal as Error).message).toMatch(/^the refresh_token of google account 104892657310943846231 is encrypted, and TOKEN_ENCRYPTION_KEYS cannot open it .*nothing was changed$/);
    expect(await snapshot(backend)).toBe(before);
  });

  it("refuses, changing nothing, an Account table that is not Auth.js's", async () => {
    await backend.exec(`ALTER TABLE "Account" RENAME COLUMN "refresh_token" TO "refreshToken"`);
    await expect(adoptDatabase(backend, keyring)).rejects.toThrow('table "Account" is not the one @auth/prisma-adapter\'s schema makes (no column "refresh_token"): nothing was changed');
    expect((await backend.query({ query: `SELECT count(*) FROM "_prisma_migrations"`, params: [] })).rows).toStrictEqual([["1"]]);
  });
});
