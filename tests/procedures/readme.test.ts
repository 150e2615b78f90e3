import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPglite, openPostgres, type SqlBackend } from "@/ops/sql-backend";
import { decryptToken, isSealed, parseKeyring, type TokenColumn } from "@/lib/tokens/crypto";
import { createAuthjsDatabase, snapshot } from "../support/authjs-database";
import { signInThroughApp, type Agent } from "../../testkit/browserless";
import { freshPostgresDatabase } from "../../testkit/stack";

// The README's operator procedures, run exactly as written (the shell blocks are
// read out of README.md) in this checkout, against `npm start` itself: once on the
// embedded database and once on a PostgreSQL server. `.tokenkeeper/` and
// `.env.local` are the README's own paths, so whatever is there is set aside first.

const ROOT = join(import.meta.dirname, "..", "..");
const APP = "http://localhost:3000"; // the README's address
const LOCAL_FILES = [".tokenkeeper", ".env.local"];
const README = readFileSync(join(ROOT, "README.md"), "utf8");

function procedure(name: string): string {
  const match = new RegExp(`<!-- procedure: ${name} -->\\n\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!match) throw new Error(`README.md has no procedure "${name}"`);
  return match[1]!;
}

// The environment of a fresh shell: none of this process's app variables.
const shellEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(AUTH_|TOKEN_|CRON_|DATABASE_URL|NEON_|TOKENKEEPER_|DEV_OIDC_|VITEST|NODE_ENV)/.test(key)) env[key] = value;
  }
  return { ...env, ...extra } as NodeJS.ProcessEnv;
};

function run(name: string, env: Record<string, string>): string {
  const result = spawnSync("bash", ["-euo", "pipefail", "-c", procedure(name)], { cwd: ROOT, env: shellEnv(env), encoding: "utf8", timeout: 120_000 });
  if (result.status !== 0) throw new Error(`procedure ${name} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

type Started = { child: ChildProcess; output: () => string; stop(): Promise<void> };

/** Whether something accepts connections on the README's port, over IPv4 or IPv6 (localhost may be either). */
const portOpen = async () => (await probe("127.0.0.1")) || (await probe("::1"));
const probe = (host: string) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(Number(new URL(APP).port), host);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });

async function npmStart(env: Record<string, string>): Promise<Started> {
  const child: ChildProcess = spawn("npm", ["start"], { cwd: ROOT, env: shellEnv(env), detached: true, stdio: "pipe" });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null) process.kill(-child.pid!, "SIGINT"); // as Ctrl-C does
    await exited;
    // npm start returns once its server's process group is gone, so the next start's first
    // request cannot be answered by this one. Probed with a bare TCP connect, since an
    // HTTP probe's own keep-alive connection would keep a server lingering.
    for (let i = 0; i < 100 && (await portOpen()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    if (await portOpen()) throw new Error(`${APP} still answers 10 s after npm start exited:\n${output}`);
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
    if (i > 1800) {
      await stop();
      throw new Error(`npm start did not answer within 3 minutes:\n${output}`);
    }
    const answered = await fetch(APP).then(
      (response) => response.status < 500,
      () => false,
    );
    if (answered) return { child, output: () => output, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const aside = (file: string) => join(ROOT, `${file}.procedures-test-aside`);
beforeAll(() => {
  for (const file of LOCAL_FILES) if (existsSync(join(ROOT, file))) renameSync(join(ROOT, file), aside(file));
});
afterAll(() => {
  for (const file of LOCAL_FILES) {
    rmSync(join(ROOT, file), { recursive: true, force: true });
    if (existsSync(aside(file))) renameSync(aside(file), join(ROOT, file));
  }
});

const SWEEP_SOON = { DEV_OIDC_ACCESS_TOKEN_TTL: "30", TOKEN_SWEEP_INTERVAL_SECONDS: "60", TOKENKEEPER_LOCAL_CRON: "off" };
/** Waits until accounts last refreshed at `refreshedAt` (epoch ms) are due for the sweep (see SWEEP_SOON). */
const untilDue = (refreshedAt: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, refreshedAt + 31_000 - Date.now())));

const databases: [string, () => Promise<Record<string, string>>][] = [
  ["the embedded database", async () => ({})],
  ["a PostgreSQL server", async () => ({ DATABASE_URL: await freshPostgresDatabase() })],
];

describe.each(databases)("the README's procedures on %s", (_label, database) => {
  let env: Record<string, string>;
  let app: Started | undefined;
  const users: Record<string, Agent> = {};
  let sweptAt = 0;
  beforeAll(async () => {
    for (const file of LOCAL_FILES) rmSync(join(ROOT, file), { recursive: true, force: true });
    // Dev tokens of 30 s and a sweep interval of 60 s: an account is due for the sweep
    // 30 s after its last refresh (#18: never sooner than half an interval), so the
    // cron by hand has work without a test clock. The local cron runner stays off: its
    // ticks would take that work first.
    env = { ...(await database()), ...SWEEP_SOON };
  });
  afterAll(async () => {
    await app?.stop();
  });

  const cron = () => JSON.parse(run("cron-by-hand", env)) as Record<string, number>;

  it("migrates, starts, signs two users in and sweeps by hand", async () => {
    expect(run("migrate", env)).toMatch(/applied: \d+_init|schema up to date/);
    app = await npmStart(env);
    for (const login of ["ada", "grace"]) users[login] = await signInThroughApp(APP, login);
    await untilDue(Date.now());
    expect(cron()).toMatchObject({ claimed: 2, refreshed: 2, failed: 0 });
    sweptAt = Date.now();
    await app.stop();
    app = undefined;
    expect(existsSync(join(ROOT, ".tokenkeeper", "stack.pid"))).toBe(false);
  });

  it("rotates the token key and the session secret; after a restart on the new key alone every account still refreshes and every session holds", async () => {
    const oldKey = JSON.parse(readFileSync(join(ROOT, ".tokenkeeper", "secrets.json"), "utf8")).TOKEN_ENCRYPTION_KEYS;
    expect(run("rotate-key", env)).toMatch(/scanned 2 accounts, re-encrypted 2/);
    run("rotate-session-secret", env);
    const local = readFileSync(join(ROOT, ".env.local"), "utf8");
    expect(local).toMatch(/^TOKEN_ENCRYPTION_KEYS=[A-Za-z0-9_-]{43}$/m);
    expect(local).not.toContain(oldKey);

    app = await npmStart(env);
    for (const [login, agent] of Object.entries(users)) {
      // A cookie sealed under the old session secret, through the middleware and auth().
      const page = await agent.request(`${APP}/dashboard`);
      expect(page.status).toBe(200);
      expect(page.headers.getSetCookie().some((cookie) => cookie.startsWith("authjs.session-token="))).toBe(true);
      const accounts = await agent.request(`${APP}/api/accounts`);
      expect(accounts.status).toBe(200);
      // Still usable (the 30 s dev tokens of SWEEP_SOON always show as "expiring": under 5 minutes left).
      expect(await accounts.json()).toMatchObject([{ provider: "oidc", providerAccountId: login, status: expect.stringMatching(/^(active|expiring)$/) }]);
    }
    await untilDue(sweptAt);
    expect(cron()).toMatchObject({ claimed: 2, refreshed: 2, failed: 0 });
  });

  it("creates an API key with which a service gets a token over HTTP, lists it, and revokes it (#20)", async () => {
    await app?.stop();
    app = undefined;
    const created = run("api-key-create", env);
    const key = /^(tk_live_\S+)$/m.exec(created)?.[1];
    expect(key).toBeDefined();
    expect(created).toMatch(/worker {2}accounts:read,tokens:read {2}active/);
    app = await npmStart(env);
    const service = (path: string) => fetch(`${APP}${path}`, { headers: { authorization: `Bearer ${key}` } });
    const accountsResponse = await service(`/api/v1/users/${(await (await users.ada!.request(`${APP}/api/auth/session`)).json()).user.id}/accounts`);
    expect(accountsResponse.status).toBe(200);
    const [account] = (await accountsResponse.json()) as { id: string }[];
    const token = await service(`/api/v1/accounts/${account!.id}/token?minTtl=120`);
    expect(token.status).toBe(200);
    expect(await token.json()).toMatchObject({ accessToken: expect.any(String), scopes: expect.arrayContaining(["openid"]) });
    expect((await service(`/api/v1/accounts/${account!.id}/proxy/me`)).status).toBe(403);
    await app.stop();
    app = undefined;
    expect(run("api-key-revoke", env)).toMatch(/revoked 1 key/);
  });

  it("drops a leaked session secret: every session sealed under it is signed out, and signing in again works (#16)", async () => {
    await app?.stop();
    app = undefined;
    run("drop-leaked-session-secret", env);
    const secrets = readFileSync(join(ROOT, ".env.local"), "utf8")
      .split("\n")
      .filter((line) => line.startsWith("AUTH_SECRET"));
    expect(secrets).toHaveLength(1);
    expect(secrets[0]).toMatch(/^AUTH_SECRET=[A-Za-z0-9_-]{43}$/);

    app = await npmStart(env);
    for (const agent of Object.values(users)) {
      expect((await agent.request(`${APP}/api/accounts`)).status).toBe(401);
      const page = await agent.request(`${APP}/dashboard`);
      expect(page.status).toBe(307);
      expect(page.headers.get("location")).toContain("/signin");
    }
    const again = await signInThroughApp(APP, "ada");
    expect((await again.request(`${APP}/api/accounts`)).status).toBe(200);
  });
});

// #22: a database that @auth/prisma-adapter's own schema made, adopted by the README's commands.
const openAt = (env: Record<string, string>): Promise<SqlBackend> => (env.DATABASE_URL ? Promise.resolve(openPostgres(env.DATABASE_URL, 1)) : openPglite(join(ROOT, ".tokenkeeper", "pglite")));

describe.each(databases)("adopting an Auth.js database on %s", (_label, database) => {
  it("encrypts every plain-text token readably, and a second run changes nothing", async () => {
    for (const file of LOCAL_FILES) rmSync(join(ROOT, file), { recursive: true, force: true });
    const env = await database();
    let before = "";
    let backend = await openAt(env);
    const accounts = await createAuthjsDatabase(backend);
    await backend.close();

    run("adopt-key", env);
    expect(run("adopt", env)).toMatch(/^Auth\.js schema baselined; applied: \d+_\w+.*; 3 accounts, 7 tokens encrypted$/m);
    const keyring = parseKeyring(/^TOKEN_ENCRYPTION_KEYS=(.*)$/m.exec(readFileSync(join(ROOT, ".env.local"), "utf8"))![1]);
    backend = await openAt(env);
    try {
      const { rows } = await backend.query({ query: `SELECT provider, "providerAccountId", access_token, refresh_token, id_token FROM "Account"`, params: [] });
      expect(rows).toHaveLength(accounts.length);
      for (const [provider, providerAccountId, ...tokens] of rows) {
        const plain = accounts.find((a) => a.provider === provider && a.providerAccountId === providerAccountId)!;
        const columns: TokenColumn[] = ["access_token", "refresh_token", "id_token"];
        for (const [i, column] of columns.entries()) {
          const value = tokens[i] ?? null;
          expect(value === null ? null : isSealed(value) && (await decryptToken(keyring, value, plain, column))).toBe(plain[column]);
        }
      }
      before = await snapshot(backend);
    } finally {
      await backend.close();
    }

    expect(run("adopt", env)).toMatch(/^schema already Tokenkeeper's; schema up to date; 3 accounts, 0 tokens encrypted$/m);
    backend = await openAt(env);
    try {
      expect(await snapshot(backend)).toBe(before);
    } finally {
      await backend.close();
    }
  });
});
