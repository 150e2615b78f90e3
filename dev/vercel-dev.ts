// `npm run vercel-dev`: the app behind the real `vercel dev` proxy, offline. Vercel
// CLI 58.10.0, measured: `vercel dev --local` needs no login and no network, unless a
// `.vercel/project.json` or VERCEL_ORG_ID/VERCEL_PROJECT_ID link the checkout to a
// project — then even `--local` calls the Vercel API and fails offline.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** Why `vercel dev --local` would go online from `root` with `env`, with the fix in words; undefined when it would not. */
export function linkedProblem(root: string, env: Record<string, string | undefined>): string | undefined {
  if (existsSync(join(root, ".vercel", "project.json"))) {
    return (
      "this checkout is linked to a Vercel project (.vercel/project.json), so `vercel dev` would call the Vercel API even offline. " +
      "Remove the link to run offline: `rm .vercel/project.json` (`vercel link` makes it again). Linked, run `vercel dev` itself instead (README, Deploy)."
    );
  }
  const set = ["VERCEL_ORG_ID", "VERCEL_PROJECT_ID"].filter((name) => env[name]);
  if (set.length) {
    return (
      `${set.join(" and ")} ${set.length > 1 ? "name" : "names"} a Vercel project, so \`vercel dev\` would call the Vercel API even offline. ` +
      `Unset ${set.length > 1 ? "them" : "it"} (in the shell or .env.local) to run offline.`
    );
  }
  return undefined;
}

/** The pinned Vercel CLI's binary, installed on first use by dev/vercel-cli.sh (its progress goes to stderr). */
export function vercelCli(root: string): string {
  return execFileSync("bash", [join(root, "dev", "vercel-cli.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

/**
 * The `vercel dev` command line serving `root` on `port`. `--local` keeps it unlinked;
 * `--yes` takes the defaults for its setup questions (vercel.json names the framework,
 * so it runs `next dev`, not the `vercel-build` script); `--cwd` stops its warning that
 * "dev" is also a folder here.
 */
export const vercelDevArgs = (root: string, port: string) => ["dev", "--cwd", root, "--local", "--yes", "--listen", port];
