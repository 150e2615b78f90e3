// The local stack behind `npm start`, `npm run dev` and the tests: a database
// (embedded PGlite, or the server DATABASE_URL names), migrations, the local Neon
// HTTP endpoint in front of it, and the dev OpenID Connect provider. It returns the
// environment the Next.js app runs with.
import { join } from "node:path";
import { isLocalDatabase } from "../lib/db/endpoint";
import { applyMigrations } from "./migrations";
import { startNeonEndpoint, type NeonEndpoint } from "./neon-http-endpoint";
import { startDevOidc, type DevOidcServer } from "./oidc-server";
import { loadOrCreateSecrets } from "./secrets";
import { openPglite, openPostgres, type SqlBackend } from "./sql-backend";

export const DEFAULT_HOME = join(import.meta.dirname, "..", ".tokenkeeper");
export const EMBEDDED_DATABASE_URL = "postgresql://tokenkeeper@localhost/tokenkeeper";
export const DEV_OIDC_CLIENT_ID = "tokenkeeper-dev";

/** A configuration problem, said in one sentence that names the variable. */
export class StackConfigError extends Error {
  override name = "StackConfigError";
}

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

function checkDatabaseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new StackConfigError("DATABASE_URL is not a valid URL: expected postgresql://user:password@host:port/database.");
  }
  if (!["postgres:", "postgresql:"].includes(url.protocol) || !url.hostname) {
    throw new StackConfigError(`DATABASE_URL must be a postgres:// or postgresql:// URL with a host, not "${url.protocol}//…".`);
  }
  return url;
}

async function openDatabase(databaseUrl: string | undefined, home: string): Promise<{ backend: SqlBackend; appUrl: string }> {
  if (!databaseUrl) return { backend: await openPglite(join(home, "pglite")), appUrl: EMBEDDED_DATABASE_URL };
  const url = checkDatabaseUrl(databaseUrl);
  const backend = openPostgres(databaseUrl);
  try {
    await backend.query({ query: "SELECT 1", params: [] });
  } catch (error) {
    await backend.close().catch(() => {});
    const reason = (error as { code?: string; message?: string }).code ?? (error as Error).message;
    throw new StackConfigError(`DATABASE_URL names a database that cannot be reached (${url.hostname}:${url.port || 5432}, ${reason}).`);
  }
  return { backend, appUrl: databaseUrl };
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const source = options.env ?? process.env;
  const home = options.home ?? source.TOKENKEEPER_HOME ?? DEFAULT_HOME;
  const log = options.log ?? (() => {});
  const appPort = options.appPort ?? Number(source.PORT ?? 3000);
  const secrets = await loadOrCreateSecrets(home);

  const { backend, appUrl } = await openDatabase(source.DATABASE_URL, home);
  const stoppers: (() => Promise<void>)[] = [() => backend.close()];
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
    if (isLocalDatabase(appUrl)) {
      endpoint = await startNeonEndpoint(backend);
      stoppers.push(() => endpoint!.close());
      env.NEON_LOCAL_ENDPOINT = endpoint.url;
      log(`database: ${source.DATABASE_URL ? "Postgres server" : `embedded PGlite in ${join(home, "pglite")}`}, Neon HTTP endpoint ${endpoint.url}`);
    }
    env.DATABASE_URL = appUrl;

    let oidc: DevOidcServer | undefined;
    if (!source.AUTH_OIDC_ISSUER) {
      const ttl = Number(source.DEV_OIDC_ACCESS_TOKEN_TTL ?? 600);
      if (!Number.isInteger(ttl) || ttl < 5) throw new StackConfigError("DEV_OIDC_ACCESS_TOKEN_TTL must be a whole number of seconds, at least 5.");
      oidc = await startDevOidc({
        port: options.oidcPort ?? Number(source.DEV_OIDC_PORT ?? 3001),
        clients: [{
          clientId: DEV_OIDC_CLIENT_ID,
          clientSecret: secrets.oidcClientSecret,
          redirectUris: ["localhost", "127.0.0.1"].map((host) => `http://${host}:${appPort}/api/auth/callback/oidc`),
        }],
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
