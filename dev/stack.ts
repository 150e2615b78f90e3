// The local stack behind `npm start`, `npm run dev` and the tests: a database
// (embedded PGlite, or the server DATABASE_URL names), migrations, the local Neon
// HTTP endpoint in front of it, and the dev OpenID Connect provider. It returns the
// environment the Next.js app runs with.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadOperationsConfig } from "../lib/env";
import { configError } from "../lib/errors";
import { openDatabase, STACK_PID_FILE, tokenkeeperHome } from "../ops/database";
import { applyMigrations } from "../ops/migrations";
import { startNeonEndpoint, type NeonEndpoint } from "../ops/neon-endpoint";
import type { SqlBackend } from "../ops/sql-backend";
import { startDevOidc, type DevOidcServer } from "./oidc-server";
import { loadOrCreateSecrets } from "./secrets";

export const DEV_OIDC_CLIENT_ID = "tokenkeeper-dev";

// Neon's own hosts get Neon's own HTTP endpoint; every other database gets the
// local one, so the app's driver code is the same everywhere.
const isNeonHost = (databaseUrl: string) => new URL(databaseUrl).hostname.endsWith(".neon.tech");

export type StackOptions = {
  home?: string;
  env?: Record<string, string | undefined>;
  /** The app's port, for the dev provider's redirect URIs. */
  appPort?: number;
  /** Port of the dev provider (0: any free one). */
  oidcPort?: number;
  log?: (line: string) => void;
};

export type Stack = {
  env: Record<string, string>;
  backend: SqlBackend;
  endpoint?: NeonEndpoint;
  oidc?: DevOidcServer;
  stop(): Promise<void>;
};

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const source = options.env ?? process.env;
  const home = options.home ?? tokenkeeperHome(source);
  const log = options.log ?? (() => {});
  const appPort = options.appPort ?? Number(source.PORT ?? 3000);
  const secrets = await loadOrCreateSecrets(home);

  const { backend, url: appUrl, embedded } = await openDatabase(loadOperationsConfig({ ...source, TOKENKEEPER_HOME: home }), { poolSize: 20 });
  const stoppers: (() => Promise<void>)[] = [() => backend.close()];
  if (embedded) {
    // Operations commands refuse to open the embedded database while this runs.
    const pidFile = join(home, STACK_PID_FILE);
    writeFileSync(pidFile, String(process.pid));
    stoppers.push(async () => rmSync(pidFile, { force: true }));
  }
  const stop = async () => {
    for (const stopper of stoppers.reverse()) await stopper().catch(() => {});
  };
  try {
    const applied = await applyMigrations(backend);
    log(applied.length ? `database: applied ${applied.join(", ")}` : "database: schema up to date");

    const env: Record<string, string> = {
      AUTH_SECRET: secrets.AUTH_SECRET,
      CRON_SECRET: secrets.CRON_SECRET,
      TOKEN_ENCRYPTION_KEYS: secrets.TOKEN_ENCRYPTION_KEYS,
      AUTH_TRUST_HOST: "true",
    };
    let endpoint: NeonEndpoint | undefined;
    if (!isNeonHost(appUrl)) {
      endpoint = await startNeonEndpoint(backend, { connectionString: appUrl });
      stoppers.push(() => endpoint!.close());
      env.NEON_LOCAL_ENDPOINT = endpoint.url;
      log(`database: ${source.DATABASE_URL ? "Postgres server" : `embedded PGlite in ${join(home, "pglite")}`}, Neon HTTP endpoint ${endpoint.url}`);
    }
    env.DATABASE_URL = appUrl;

    let oidc: DevOidcServer | undefined;
    if (!source.AUTH_OIDC_ISSUER) {
      const ttl = Number(source.DEV_OIDC_ACCESS_TOKEN_TTL ?? 600);
      if (!Number.isInteger(ttl) || ttl < 5) throw configError("DEV_OIDC_ACCESS_TOKEN_TTL must be a whole number of seconds, at least 5.");
      oidc = await startDevOidc({
        port: options.oidcPort ?? Number(source.DEV_OIDC_PORT ?? 3001),
        clients: [
          {
            clientId: DEV_OIDC_CLIENT_ID,
            clientSecret: secrets.oidcClientSecret,
            redirectUris: ["localhost", "127.0.0.1"].map((host) => `http://${host}:${appPort}/api/auth/callback/oidc`),
          },
        ],
        accessTokenTtlSeconds: ttl,
        signingKey: secrets.oidcSigningKey,
        cookieKeys: [secrets.oidcCookieKey],
        storeFile: join(home, "oidc-store.json"),
      });
      stoppers.push(() => oidc!.close());
      Object.assign(env, {
        AUTH_OIDC_ISSUER: oidc.issuer,
        AUTH_OIDC_ID: DEV_OIDC_CLIENT_ID,
        AUTH_OIDC_SECRET: secrets.oidcClientSecret,
        AUTH_OIDC_NAME: "Tokenkeeper dev provider",
      });
      log(`dev provider: ${oidc.issuer} (any user name signs in; access tokens live ${ttl} s)`);
    }
    // Every variable the user set wins over the generated defaults.
    for (const [key, value] of Object.entries(source)) {
      if (value !== undefined && key !== "DATABASE_URL" && key in env) env[key] = value;
    }
    return { env, backend, endpoint, oidc, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
