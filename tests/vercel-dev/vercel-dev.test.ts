import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signInThroughApp } from "../../testkit/browserless";
import { tempDir } from "../../testkit/left-behind";

// `npm run vercel-dev` in a fresh clone of this repository (its committed HEAD),
// offline, exactly as the README's Set up gives it: the real Vercel CLI's `vercel dev
// --local` proxy in front of `next dev`, the dev stack, and the local cron runner.

const ROOT = join(import.meta.dirname, "..", "..");
const APP = "http://localhost:3000"; // the README's address
let clone: string;

// The environment of a fresh shell: none of this process's app variables.
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: Record<string, string> = { NEXT_TELEMETRY_DISABLED: "1" };
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(AUTH_|TOKEN_|CRON_|DATABASE_URL|NEON_|TOKENKEEPER_|DEV_OIDC_|VERCEL|VITEST|NODE_ENV|PORT$)/.test(key)) env[key] = value;
  }
  return { ...env, ...extra } as NodeJS.ProcessEnv;
}

/** The command lines of this machine's processes whose working directory is `dir` (Linux's /proc). */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      if (realpathSync(`/proc/${pid}/cwd`) === realpathSync(dir)) found.push(readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim());
    } catch {} // gone meanwhile, or not ours to read
  }
  return found;
}

const vercelDev = (env: Record<string, string> = {}) => spawnSync("npm", ["run", "vercel-dev"], { cwd: clone, env: shellEnv(env), encoding: "utf8", timeout: 120_000 });

beforeAll(() => {
  clone = tempDir("tokenkeeper-clone-");
  const cloned = spawnSync("git", ["clone", "--quiet", ROOT, clone], { encoding: "utf8" });
  if (cloned.status !== 0) throw new Error(`git clone failed: ${cloned.stderr}`);
  const installed = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--prefer-offline"], { cwd: clone, env: shellEnv(), encoding: "utf8" });
  if (installed.status !== 0) throw new Error(`npm ci failed:\n${installed.stdout}\n${installed.stderr}`);
});
afterAll(() => {
  if (clone) rmSync(clone, { recursive: true, force: true });
});

describe("npm run vercel-dev refuses up front what would send `vercel dev` online", () => {
  it("names .vercel/project.json and how to remove it", () => {
    mkdirSync(join(clone, ".vercel"), { recursive: true });
    writeFileSync(join(clone, ".vercel", "project.json"), JSON.stringify({ projectId: "prj_x", orgId: "team_x" }));
    try {
      const result = vercelDev();
      expect(result.status).toBe(1);
      expect(result.stderr).toContain("linked to a Vercel project (.vercel/project.json)");
      expect(result.stderr).toContain("`rm .vercel/project.json`");
    } finally {
      rmSync(join(clone, ".vercel"), { recursive: true, force: true });
    }
  });

  it("names VERCEL_ORG_ID and VERCEL_PROJECT_ID and says to unset them", () => {
    const result = vercelDev({ VERCEL_ORG_ID: "team_x", VERCEL_PROJECT_ID: "prj_x" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("VERCEL_ORG_ID and VERCEL_PROJECT_ID name a Vercel project");
    expect(result.stderr).toContain("Unset them");
  });
});

describe("npm run vercel-dev on a fresh clone, offline", () => {
  let child: ChildProcess;
  let output = "";
  let exited: Promise<void>;

  beforeAll(async () => {
    const busy = await fetch(APP).then(
      () => true,
      () => false,
    );
    if (busy) throw new Error(`${APP} already answers: stop whatever listens there first`);
    child = spawn("npm", ["run", "vercel-dev"], { cwd: clone, env: shellEnv(), detached: true, stdio: "pipe" });
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk));
    exited = new Promise((resolve) => child.once("exit", () => resolve()));
    // The first start installs the pinned Vercel CLI, then `next dev` compiles on demand.
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`npm run vercel-dev exited:\n${output}`);
      if (i > 3000) throw new Error(`npm run vercel-dev did not answer within 5 minutes:\n${output}`);
      if (
        await fetch(APP).then(
          (response) => response.status < 500,
          () => false,
        )
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  afterAll(async () => {
    // Still running (npm ends by the signal itself, so a stopped one has a signalCode instead of an exitCode).
    if (child && child.exitCode === null && child.signalCode === null) {
      process.kill(-child.pid!, "SIGINT"); // as Ctrl-C does
      await exited;
    }
  });

  const cronSecret = () => (JSON.parse(readFileSync(join(clone, ".tokenkeeper", "secrets.json"), "utf8")) as { CRON_SECRET: string }).CRON_SECRET;

  it("answers through the real `vercel dev` proxy", async () => {
    const response = await fetch(APP);
    expect(response.status).toBe(200);
    expect(response.headers.get("server")).toBe("Vercel");
    expect(response.headers.get("x-vercel-id")).toMatch(/^dev1::/);
    expect(output).toContain("Vercel CLI 58.10.0");
  });

  it("runs the middleware: signed out, the dashboard redirects to sign-in and the API answers 401", async () => {
    const page = await fetch(`${APP}/dashboard`, { redirect: "manual" });
    expect(page.status).toBe(307);
    expect(page.headers.get("location")).toBe("/signin?callbackUrl=%2Fdashboard");
    const api = await fetch(`${APP}/api/accounts`);
    expect(api.status).toBe(401);
    expect(await api.json()).toStrictEqual({ error: "unauthorized", message: "Sign in first." });
  });

  it("signs in at the dev provider through the proxy, and the account's tokens are kept", async () => {
    const agent = await signInThroughApp(APP, "vercel-dev-user");
    const response = await agent.request(`${APP}/api/accounts`);
    expect(response.status).toBe(200);
    const accounts = (await response.json()) as { provider: string; status: string }[];
    expect(accounts).toMatchObject([{ provider: "oidc", status: "active" }]);
  });

  it("answers the cron routes with the bearer, and only with it", async () => {
    const authorization = `Bearer ${cronSecret()}`;
    const sweep = await fetch(`${APP}/api/cron/refresh-tokens`, { headers: { authorization } });
    expect(sweep.status).toBe(200);
    expect(await sweep.json()).toMatchObject({ failed: 0, reauthRequired: 0 });
    expect((await fetch(`${APP}/api/cron/webhooks`, { headers: { authorization } })).status).toBe(200);
    expect((await fetch(`${APP}/api/cron/refresh-tokens`)).status).toBe(401);
  });

  it("runs the webhook cron (every minute) through the proxy by itself", async () => {
    const ran = () => output.split("\n").some((line) => line.includes('"event":"cron.run"') && line.includes('"path":"/api/cron/webhooks"') && line.includes('"status":200'));
    for (let waited = 0; waited < 75_000 && !ran(); waited += 500) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(ran()).toBe(true);
  }, 90_000);

  it("stops everything on Ctrl-C: nothing answers, and no process is left in the clone (next dev wrote to .next/ after npm ended)", async () => {
    process.kill(-child.pid!, "SIGINT");
    await exited;
    expect(processesIn(clone)).toStrictEqual([]);
    expect(
      await fetch(APP).then(
        () => "answers",
        () => "stopped",
      ),
    ).toBe("stopped");
    expect(
      await fetch("http://localhost:3001").then(
        () => "answers",
        () => "stopped",
      ),
    ).toBe("stopped");
  });
});
