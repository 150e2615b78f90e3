// `npm start` rebuilds only when the build would differ: the fingerprint of what
// `next build` reads — every file git tracks or would track (sources, config, the
// lockfile that pins the dependencies), the Node version and the variables Next.js
// inlines at build time — is stored beside the build, and a start whose
// fingerprint matches serves the existing build.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const FILE = join(".next", "tokenkeeper-build-fingerprint");

/** Variables `next build` reads: NODE_ENV and what it inlines (NEXT_PUBLIC_*); the app reads every other one at run time. */
const buildsWith = (name: string) => name === "NODE_ENV" || name.startsWith("NEXT_PUBLIC_");

/**
 * A sha256 (hex) of the sources and build inputs of the checkout at `root`, or
 * undefined when it is not a git checkout (then every start builds).
 */
export function buildFingerprint(root: string, env: Record<string, string | undefined>): string | undefined {
  // Tracked files plus new ones not ignored: a file just created counts too.
  const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" });
  if (listed.status !== 0) return undefined;
  const hash = createHash("sha256").update(`node ${process.version}\n`);
  for (const name of Object.keys(env).filter(buildsWith).sort()) hash.update(`env ${name}=${env[name]}\n`);
  for (const file of [...new Set(listed.stdout.split("\0").filter(Boolean))].sort()) {
    const path = join(root, file);
    // A tracked file deleted in the work tree is listed but absent.
    const content = existsSync(path) && statSync(path).isFile() ? readFileSync(path) : "(not a file)";
    hash.update(`file ${file}\n`).update(content).update("\n");
  }
  return hash.digest("hex");
}

/** Whether the build in `root/.next` was made from `fingerprint`. */
export function isBuildCurrent(root: string, fingerprint: string | undefined): boolean {
  const file = join(root, FILE);
  return fingerprint !== undefined && existsSync(join(root, ".next", "BUILD_ID")) && existsSync(file) && readFileSync(file, "utf8") === fingerprint;
}

/** Forgets the stored fingerprint (before a build: a failed build must not look current). */
export function forgetBuild(root: string): void {
  rmSync(join(root, FILE), { force: true });
}

/** Records that the build in `root/.next` was made from `fingerprint`. */
export function recordBuild(root: string, fingerprint: string | undefined): void {
  if (fingerprint !== undefined) writeFileSync(join(root, FILE), fingerprint);
}
