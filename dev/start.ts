// `npm start` / `npm run dev`: the whole app on embedded defaults, no env needed.
// Usage: tsx dev/start.ts start|dev
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { parseEnv, webhookConfig } from "../lib/env";
import { TokenError } from "../lib/errors";
import { parseKeyring } from "../lib/tokens/crypto";
import { loadEnvLocal } from "../lib/ops/database";
import { startStack } from "./stack";

const mode = process.argv[2] === "dev" ? "dev" : "start";
const port = process.env.PORT ?? "3000";
const root = join(import.meta.dirname, "..");
const nextBin = join(root, "node_modules", "next", "dist", "bin", "next");
const say = (line: string) => console.log(`[tokenkeeper] ${line}`);

// .env.local wins over the generated secrets, as the README's rotation procedures use it.
loadEnvLocal();
let stack;
try {
  stack = await startStack({ appPort: Number(port), log: say });
} catch (error) {
  if (error instanceof TokenError && error.code === "config") {
    console.error(`[tokenkeeper] ${error.message}`);
    process.exit(1);
  }
  throw error;
}
const env = { ...process.env, ...stack.env, PORT: port };
// The app would only find a bad variable at its first request: say it now.
try {
  parseKeyring(parseEnv(env).TOKEN_ENCRYPTION_KEYS);
  webhookConfig(env);
} catch (error) {
  if (!(error instanceof TokenError && error.code === "config")) throw error;
  console.error(`[tokenkeeper] ${error.message}`);
  await stack.stop();
  process.exit(1);
}

// The build runs as a child like the server, so the local endpoint and the dev
// provider keep answering and Ctrl-C stops whichever is running.
let child: ChildProcess | undefined;
let stopping = false;
const shutdown = async (code: number) => {
  if (stopping) return;
  stopping = true;
  child?.kill("SIGTERM");
  await stack.stop();
  process.exit(code);
};
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

const next = (args: string[]) =>
  new Promise<number>((resolve) => {
    child = spawn(process.execPath, [nextBin, ...args], { cwd: root, env, stdio: "inherit" });
    child.on("exit", (code) => resolve(code ?? 1));
  });

if (mode === "start") {
  say("building the app (next build)…");
  const status = await next(["build"]);
  if (status !== 0) await shutdown(status);
}
say(`app: http://localhost:${port}`);
await shutdown(await next([mode, "-p", port]));
