// A database as a team already on Auth.js has it: made by @auth/prisma-adapter's own
// Prisma schema (tests/fixtures/authjs-prisma, rendered by Prisma's schema engine and
// recorded as the team's migration), with Google- and Discord-shaped accounts whose
// tokens are stored in plain text, as that adapter stores them.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { applyMigrations } from "@/ops/migrations";
import type { SqlBackend } from "@/ops/sql-backend";

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "authjs-prisma", "migration.sql");

export type PlainAccount = {
  provider: string;
  providerAccountId: string;
  userEmail: string;
  access_token: string;
  refresh_token: string | null;
  id_token: string | null;
  expires_at: number;
  scope: string;
};

const jws = (header: object, payload: object) =>
  `${[header, payload].map((part) => Buffer.from(JSON.stringify(part)).toString("base64url")).join(".")}.${createHash("sha256").update(JSON.stringify(payload)).digest("base64url")}`;

/** The accounts createAuthjsDatabase writes; their tokens are what the app must read back after adoption. */
export function plainAccounts(now = Math.floor(Date.now() / 1000)): PlainAccount[] {
  return [
    {
      provider: "google",
      providerAccountId: "104892657310943846231",
      userEmail: "ada@example.com",
      access_token: "ya29.a0AfB_byC-plain-google-access-token-0001",
      refresh_token: "1//0gplain-google-refresh-token-0001",
      // A Google ID token is a JWS whose header carries a kid: plain text all the same.
      id_token: jws({ alg: "RS256", kid: "8e0acf891e090091ef1a5e7e64bab280ff2b6e5c", typ: "JWT" }, { iss: "https://accounts.google.com", sub: "104892657310943846231", email: "ada@example.com" }),
      expires_at: now + 3599,
      scope: "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile",
    },
    {
      provider: "discord",
      providerAccountId: "80351110224678912",
      userEmail: "ada@example.com",
      access_token: "6qrZcUqja7812RVdnEKjpzOL4CvHBFG",
      refresh_token: "D43f5y0ahjqew82jZ4NViEr2YafMKhue",
      id_token: null,
      expires_at: now + 604800,
      scope: "identify email",
    },
    {
      provider: "discord",
      providerAccountId: "41771983423143937",
      userEmail: "grace@example.com",
      access_token: "Pa8Dkq2HxZr0Lm7TqV3sNw9bYc4eFg1",
      refresh_token: "Zx9Wv8Ut7Sr6Qp5On4Ml3Kj2Ih1Gf0E",
      id_token: null,
      expires_at: now - 60,
      scope: "identify email guilds",
    },
  ];
}

/** Creates the Auth.js schema on an empty database and writes plainAccounts() as its adapter would. */
export async function createAuthjsDatabase(backend: SqlBackend): Promise<PlainAccount[]> {
  const sql = readFileSync(FIXTURE, "utf8");
  await applyMigrations(backend, [{ name: "20240301120000_authjs", sql, checksum: createHash("sha256").update(sql).digest("hex") }]);
  const accounts = plainAccounts();
  for (const email of new Set(accounts.map((account) => account.userEmail))) {
    await backend.query({ query: `INSERT INTO "User" (id, name, email, "updatedAt") VALUES ($1, $2, $3, now())`, params: [`user-${email}`, email.split("@")[0], email] });
  }
  for (const a of accounts) {
    await backend.query({
      query: `INSERT INTO "Account" ("userId", type, provider, "providerAccountId", access_token, refresh_token, id_token, expires_at, token_type, scope, "updatedAt")
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'bearer', $9, now())`,
      // Auth.js's account type: Google is an OpenID Connect provider, Discord plain OAuth.
      params: [`user-${a.userEmail}`, a.provider === "google" ? "oidc" : "oauth", a.provider, a.providerAccountId, a.access_token, a.refresh_token, a.id_token, String(a.expires_at), a.scope],
    });
  }
  await backend.query({
    query: `INSERT INTO "Session" ("sessionToken", "userId", expires, "updatedAt") VALUES ('legacy-session', 'user-ada@example.com', now() + interval '30 days', now())`,
    params: [],
  });
  return accounts;
}

/** Every row of the tables adoption touches, as text: to show a second run changes nothing. */
export async function snapshot(backend: SqlBackend): Promise<string> {
  const parts: string[] = [];
  for (const table of ["User", "Account", "Session", "VerificationToken", "_prisma_migrations"]) {
    const { rows } = await backend.query({ query: `SELECT * FROM "${table}" ORDER BY 1, 2`, params: [] });
    parts.push(`${table}: ${JSON.stringify(rows)}`);
  }
  return parts.join("\n");
}
