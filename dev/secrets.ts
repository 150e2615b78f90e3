// Secrets the dev stack generates on first run and keeps in a gitignored file, so
// sessions and stored tokens survive restarts. A variable that is set wins.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { JWK } from "jose";
import { generateSigningKey } from "./oidc-server";

export type DevSecrets = {
  AUTH_SECRET: string;
  CRON_SECRET: string;
  TOKEN_ENCRYPTION_KEYS: string;
  oidcClientSecret: string;
  oidcCookieKey: string;
  oidcSigningKey: JWK;
};

const random = () => randomBytes(32).toString("base64url");

export async function loadOrCreateSecrets(home: string): Promise<DevSecrets> {
  const file = join(home, "secrets.json");
  const stored: Partial<DevSecrets> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  const secrets: DevSecrets = {
    AUTH_SECRET: stored.AUTH_SECRET ?? random(),
    CRON_SECRET: stored.CRON_SECRET ?? random(),
    TOKEN_ENCRYPTION_KEYS: stored.TOKEN_ENCRYPTION_KEYS ?? random(),
    oidcClientSecret: stored.oidcClientSecret ?? random(),
    oidcCookieKey: stored.oidcCookieKey ?? random(),
    oidcSigningKey: stored.oidcSigningKey ?? (await generateSigningKey()),
  };
  if (JSON.stringify(secrets) !== JSON.stringify(stored)) {
    // Only this user may read the folder (the embedded database, the provider's grants) and the secrets.
    mkdirSync(home, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  }
  // A mode applies when a file is created: one left readable by an older version is closed too.
  chmodSync(file, 0o600);
  return secrets;
}
