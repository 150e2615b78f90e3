// `npm start` / `npm run dev` / `npm run vercel-dev`: the whole app on embedded
// defaults, no env needed, with the crons of vercel.json run by the local cron runner.
// Usage: tsx dev/start.ts start|dev|vercel-dev
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { parseEnv, signOutMode, webhookConfig } from "../lib/env";
import { AppError } from "../lib/errors";
import { parseKeyring } from "../lib/tokens/crypto";
import { loadEnvLocal } from "../ops/database";
import { buildFingerprint, forgetBuild, isBuildCurrent, recordBuild } from "./build-fingerprint";
import { localCronEnabled, readCrons, startCronRunner, type CronJob, type CronRunner } from "./cron-runner";
import { startStack, type Stack } from "./stack";
import { linkedProblem, vercelCli, vercelDevArgs } from "./vercel-dev";

const mode = (["start", "dev", "vercel-dev"] as const).find((name) => name === process.argv[2]) ?? "start";
const port = process.env.PORT ?? "3000";
const appUrl = `http://localhost:${port}`;
const root = join(import.meta.dirname, "..");
const nextBin = join(root, "node_modules", "next", "dist", "bin", "next");
const say = (line: string) => console.log(`[tokenkeeper] ${line}`);

let stack: Stack | undefined;
/** Ends the start with a configuration error's message (no stack trace: the message says what to fix). */
async function refuse(error: unknown): Promise<never> {
  if (!(error instanceof AppError && error.code === "config")) throw error;
  console.error(`[tokenkeeper] ${error.message}`);
  await stack?.stop();
  process.exit(1);
}

// .env.local wins over the generated secrets, as the README's rotation procedures use it.
loadEnvLocal();
const linked = mode === "vercel-dev" ? linkedProblem(root, process.env) : undefined;
if (linked) {
  console.error(`[tokenkeeper] npm run vercel-dev: ${linked}`);
  process.exit(1);
}
let crons: CronJob[] = [];
try {
  crons = localCronEnabled(process.env) ? readCrons(join(root, "vercel.json")) : [];
  stack = await startStack({ appPort: Number(port), log: say });
} catch (error) {
  await refuse(error);
}
const env: NodeJS.ProcessEnv = { ...process.env, ...stack!.env, PORT: port };
// The app would only find a bad variable at its first request: say it now.
try {
  parseKeyring(parseEnv(env).TOKEN_ENCRYPTION_KEYS);
  webhookConfig(env);
  signOutMode(env);
} catch (error) {
  await refuse(error);
}

// The build runs as a child like the server, so the local endpoint and the dev
// provider keep answering and Ctrl-C stops whichever is running. The child leads its
// own process group: `next start` forks its server, and `vercel dev` its `next dev`,
// which still write to .next/ and hold the port after their parent exits. Stopping
// waits until that whole group is gone, so a stopped start leaves nothing behind.
let child: ChildProcess | undefined;
let cron: CronRunner | undefined;
let stopping = false;
const shutdown = async (code: number) => {
  if (stopping) return;
  stopping = true;
  cron?.stop();
  if (child?.pid) await endGroup(child.pid);
  await stack!.stop();
  process.exit(code);
};
// SIGHUP too: a closed terminal no longer reaches the child's own group.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void shutdown(0));
// Last resort, when this process ends any other way (an uncaught error): no server
// outlives it holding the port with the dev stack gone.
process.on("exit", () => {
  try {
    if (child?.pid) process.kill(-child.pid, "SIGKILL");
  } catch {} // already gone
});

/** Whether any process of the group `pgid` is still alive. */
const groupAlive = (pgid: number) => {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
};
/** Sends SIGTERM to the group `pgid` and waits until it is gone: after 10 s, SIGKILL. */
async function endGroup(pgid: number) {
  await signalGroup(pgid, "SIGTERM", 10_000);
  await signalGroup(pgid, "SIGKILL", 2_000);
}
/** Sends `signal` to the group `pgid` if it is alive, and waits up to `waitMs` for it to be gone. */
async function signalGroup(pgid: number, signal: NodeJS.Signals, waitMs: number) {
  if (!groupAlive(pgid)) return;
  try {
    process.kill(-pgid, signal);
  } catch {}
  for (let waited = 0; waited < waitMs && groupAlive(pgid); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
}

const run = (command: string, args: string[], childEnv = env) =>
  new Promise<number>((resolve) => {
    child = spawn(command, args, { cwd: root, env: childEnv, stdio: "inherit", detached: true });
    child.on("exit", (code) => resolve(code ?? 1));
  });
const next = (args: string[]) => run(process.execPath, [nextBin, ...args]);

async function serve(): Promise<number> {
  if (mode === "vercel-dev") {
    const cli = vercelCli(root);
    // Its proxy rewrites Host, so Auth.js learns the outer address from AUTH_URL; it
    // picks the inner `next dev` port itself (PORT would pin it to the outer one).
    const { PORT: _, ...outer } = env;
    say(`app: ${appUrl}`);
    startCron();
    return run(cli, vercelDevArgs(root, port), { ...outer, AUTH_URL: env.AUTH_URL ?? appUrl, VERCEL_TELEMETRY_DISABLED: "1" });
  }
  if (mode === "start") {
    const fingerprint = buildFingerprint(root, env);
    if (isBuildCurrent(root, fingerprint)) say("build is current (sources, lockfile and build variables unchanged): serving it");
    else {
      say("building the app (next build)…");
      forgetBuild(root);
      const status = await next(["build"]);
      // Interrupted or failed: nothing to serve, and nothing recorded as built.
      if (status !== 0 || stopping) return status;
      recordBuild(root, fingerprint);
    }
  }
  say(`app: ${appUrl}`);
  startCron();
  return next([mode, "-p", port]);
}

function startCron() {
  if (!crons.length) return;
  cron = startCronRunner({ baseUrl: appUrl, cronSecret: env.CRON_SECRET, jobs: crons });
  say(`cron: ${crons.map((job) => `${job.path} (${job.schedule})`).join(", ")} run here, in UTC (TOKENKEEPER_LOCAL_CRON=off stops that)`);
}

await shutdown(await serve());
