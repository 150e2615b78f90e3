// `npm start` / `npm run dev`: the whole app on embedded defaults, no env needed.
// Usage: tsx dev/start.ts start|dev
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { ConfigError, parseEnv } from "../lib/env";
import { parseKeyring } from "../lib/tokens/crypto";
import { StackConfigError, startStack } from "./stack";

const mode = process.argv[2] === "dev" ? "dev" : "start";
const port = process.env.PORT ?? "3000";
const root = join(import.meta.dirname, "..");
const next = join(root, "node_modules", "next", "dist", "bin", "next");
const say = (line: string) => console.log(`[tokenkeeper] ${line}`);

let stack;
try {
  stack = await startStack({ appPort: Number(port), log: say });
} catch (error) {
  if (error instanceof StackConfigError) {
    console.error(`[tokenkeeper] ${error.message}`);
    process.exit(1);
  }
  throw error;
}
const env = { ...process.env, ...stack.env, PORT: port };
// The app would only find a bad variable at its first request: say it now.
try {
  parseKeyring(parseEnv(env).TOKEN_ENCRYPTION_KEYS);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`[tokenkeeper] ${error.message}`);
  await stack.stop();
  process.exit(1);
}

if (mode === "start") {
  say("building the app (next build)…");
  const build = spawnSync(process.execPath, [next, "build"], { cwd: root, env, stdio: "inherit" });
  if (build.status !== 0) {
    await stack.stop();
    process.exit(build.status ?? 1);
  }
}
const app = spawn(process.execPath, [next, mode, "-p", port], { cwd: root, env, stdio: "inherit" });
say(`app: http://localhost:${port}`);

let stopping = false;
const shutdown = async (code: number) => {
  if (stopping) return;
  stopping = true;
  app.kill("SIGTERM");
  await stack.stop();
  process.exit(code);
};
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
app.on("exit", (code) => void shutdown(code ?? 0));
