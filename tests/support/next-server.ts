// `next build` + `next start` of this app against a test stack, for browser tests.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const nextBin = join(root, "node_modules/next/dist/bin/next");

export type NextServer = { url: string; output: () => string; stop(): Promise<void> };

const fullEnv = (env: Record<string, string>, port: number) => ({ ...process.env, ...env, PORT: String(port), NEXT_TELEMETRY_DISABLED: "1" });

export async function buildAndStart(env: Record<string, string>, port: number): Promise<NextServer> {
  const build = spawnSync(process.execPath, [nextBin, "build"], { cwd: root, env: fullEnv(env, port), encoding: "utf8" });
  if (build.status !== 0) throw new Error(`next build failed:\n${build.stdout}\n${build.stderr}`);
  return start(env, port);
}

/** `next start` of the last build, e.g. again with other settings. */
export async function start(env: Record<string, string>, port: number): Promise<NextServer> {
  const child: ChildProcess = spawn(process.execPath, [nextBin, "start", "-p", String(port)], { cwd: root, env: fullEnv(env, port) });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const url = `http://localhost:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(url)).status < 500) break;
    } catch {
      // not listening yet
    }
    if (i > 300 || child.exitCode !== null) throw new Error(`next start did not come up:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
