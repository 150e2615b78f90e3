import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startStack } from "@/dev/stack";
import { configError } from "@/lib/errors";
import { createDb } from "@/lib/db/client";
import { issueTokens, postToProvider } from "../../testkit/grants";
import { scratchDir } from "../../testkit/scratch";

describe("the dev stack", () => {
  it("keeps data, secrets and the provider's grants across a restart", async () => {
    const home = scratchDir("tokenkeeper-restart-");
    const first = await startStack({ home, env: {}, appPort: 3999, oidcPort: 0 });
    const db = createDb(first.env.DATABASE_URL!, first.env.NEON_LOCAL_ENDPOINT);
    await db.user.create({ data: { name: "survivor", email: "survivor@example.test" } });
    // A real grant at the dev provider, with its refresh token.
    const tokens = await issueTokens({ ...first, home, db }, "survivor");
    await first.stop();

    const second = await startStack({ home, env: {}, appPort: 3999, oidcPort: 0 });
    try {
      expect(second.env.AUTH_SECRET).toBe(first.env.AUTH_SECRET);
      expect(second.env.TOKEN_ENCRYPTION_KEYS).toBe(first.env.TOKEN_ENCRYPTION_KEYS);
      expect(second.env.CRON_SECRET).toBe(first.env.CRON_SECRET);
      const again = createDb(second.env.DATABASE_URL!, second.env.NEON_LOCAL_ENDPOINT);
      expect(await again.user.findUnique({ where: { email: "survivor@example.test" } })).toMatchObject({ name: "survivor" });
      // The refresh token issued before the restart still refreshes after it.
      const response = await postToProvider(second, "/token", { grant_type: "refresh_token", refresh_token: tokens.refreshToken });
      expect(response.status).toBe(200);
    } finally {
      await second.stop();
    }
  });

  it("lets every set variable win over the generated defaults", async () => {
    const home = scratchDir("tokenkeeper-env-");
    const stack = await startStack({ home, env: { CRON_SECRET: "from-the-environment-123", AUTH_OIDC_ISSUER: "https://issuer.example" }, oidcPort: 0 });
    try {
      expect(stack.env.CRON_SECRET).toBe("from-the-environment-123");
      expect(stack.oidc).toBeUndefined(); // a configured provider means no dev provider
      expect(stack.env.AUTH_OIDC_ISSUER).toBeUndefined();
    } finally {
      await stack.stop();
    }
  });

  it("stops with one sentence naming DATABASE_URL when it is malformed or unreachable", async () => {
    const home = scratchDir("tokenkeeper-bad-");
    await expect(startStack({ home, env: { DATABASE_URL: "not a url" } })).rejects.toThrow(
      configError("Invalid configuration: DATABASE_URL is not a valid URL: expected postgresql://user:password@host:port/database."),
    );
    await expect(startStack({ home, env: { DATABASE_URL: "mysql://localhost/db" } })).rejects.toThrow(/^Invalid configuration: DATABASE_URL must be a postgres/);
    await expect(startStack({ home, env: { DATABASE_URL: "postgresql://nobody@127.0.0.1:9/none" } })).rejects.toThrow(
      "DATABASE_URL names a database that cannot be reached (127.0.0.1:9, ECONNREFUSED).",
    );
  });
});

describe("npm run db:migrate (#11)", () => {
  const migrate = (env: Record<string, string>) =>
    spawnSync(process.execPath, [join(import.meta.dirname, "../../node_modules/tsx/dist/cli.mjs"), "--conditions=react-server", "ops/db-migrate.ts"], {
      cwd: join(import.meta.dirname, "../.."),
      env: { PATH: process.env.PATH!, NODE_ENV: "production", ...env },
      encoding: "utf8",
    });

  it("fails on Vercel without DATABASE_URL instead of migrating a throwaway embedded database", () => {
    const home = scratchDir("tokenkeeper-vercel-");
    const result = migrate({ VERCEL: "1", TOKENKEEPER_HOME: home });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("db:migrate failed: DATABASE_URL is not set: set it in the Vercel project's environment variables");
    expect(existsSync(join(home, "pglite"))).toBe(false);
  });

  it("refuses the embedded database while npm start has it open", async () => {
    const home = scratchDir("tokenkeeper-busy-");
    const stack = await startStack({ home, env: {}, oidcPort: 0 });
    try {
      const result = migrate({ TOKENKEEPER_HOME: home });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/npm start \(pid \d+\) has the embedded database open: stop it first/);
    } finally {
      await stack.stop();
    }
    expect(migrate({ TOKENKEEPER_HOME: home }).stdout).toContain("schema up to date");
  });
});

describe("npm run keys:create on a fresh clone (#20)", () => {
  it("works before the first npm start: the embedded database is migrated first, as npm start would", () => {
    const home = scratchDir("tokenkeeper-fresh-");
    const keys = (...args: string[]) =>
      spawnSync(process.execPath, [join(import.meta.dirname, "../../node_modules/tsx/dist/cli.mjs"), "--conditions=react-server", "ops/keys.ts", ...args], {
        cwd: join(import.meta.dirname, "../.."),
        env: { PATH: process.env.PATH!, NODE_ENV: "production", TOKENKEEPER_HOME: home },
        encoding: "utf8",
      });
    const created = keys("create", "--name", "worker", "--scopes", "accounts:read,tokens:read");
    expect(created.stderr).toBe("");
    expect(created.stdout).toMatch(/^created key [0-9a-f]{20} "worker" with scopes accounts:read,tokens:read; it is shown this once, keep it secret:\ntk_live_/);
    expect(keys("list").stdout).toMatch(/ worker {2}accounts:read,tokens:read {2}active /);
  });
});
