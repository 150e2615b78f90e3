import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";

// #17: the environment is read in one module, lib/env.ts (the app's Config and the
// operations commands' subset), so each variable has one parsing and nothing reads
// around the validation. The product's source is scanned with its comments stripped
// (esbuild's transform drops them); every other reader is named here with its reason.
const ROOT = join(import.meta.dirname, "../..");
const ALLOWED: Record<string, string> = {
  "lib/env.ts": "the one reader: loadConfig, loadOperationsConfig and the few variables read on each call",
  "middleware.ts":
    "edge runtime: reads AUTH_SECRET..AUTH_SECRET_3 through sessionSecretList (lib/session-check.ts), the definition lib/env.ts uses too; importing lib/env.ts would put zod and every provider into the edge bundle",
  "lib/log.ts": "edge-safe (the middleware answers through lib/errors.ts, which logs): TOKENKEEPER_LOG_LEVEL, read per line, and parsed nowhere else",
  "instrumentation.ts": "NEXT_RUNTIME is set by Next.js itself for each runtime it loads the file in: not configuration",
  "prisma.config.ts": "read by the Prisma CLI (prisma generate at install), outside the app and without the react-server condition lib/env.ts needs",
};

// The product: what a deployment runs, and the operations commands. dev/, tests/,
// testkit/ and bench/ set up environments of their own on purpose.
const TOP_LEVEL = ["auth.ts", "auth.config.ts", "middleware.ts", "instrumentation.ts", "next.config.ts", "prisma.config.ts"];
const FOLDERS = ["app", "lib", "ops"];
// Prisma's generated client (gitignored, rewritten by `prisma generate`).
const GENERATED = "lib/db/generated";

function sources(folder: string): string[] {
  return readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)))
    .filter((file) => !file.startsWith(GENERATED));
}

const READS = [
  /\bprocess\s*(?:\?\.|\.)\s*env\b/, // process.env, process?.env
  /\bprocess\s*\[\s*["'`]env["'`]\s*\]/, // process["env"]
  /\{[^}]*\benv\b[^}]*\}\s*=\s*(?:globalThis\.)?process\b/, // const { env } = process
  /\bfrom\s*["'](?:node:)?process["']/, // import { env } from "node:process"
];

/** Whether `file`'s code, comments left out, reads the environment. */
function readsEnvironment(file: string): boolean {
  const { code } = transformSync(readFileSync(join(ROOT, file), "utf8"), { loader: file.endsWith(".tsx") ? "tsx" : "ts", legalComments: "none", jsx: "preserve" });
  return READS.some((pattern) => pattern.test(code));
}

describe("who reads the environment (#17)", () => {
  const files = [...TOP_LEVEL, ...FOLDERS.flatMap(sources)];

  it("scans the whole product", () => {
    expect(files.length).toBeGreaterThan(100);
    for (const file of ["lib/consent-flow.ts", "lib/accounts.ts", "auth.ts", "auth.config.ts", "ops/keys.ts", "app/dashboard/page.tsx"]) expect(files).toContain(file);
  });

  it("is lib/env.ts alone, besides the modules listed with their reasons", () => {
    expect(files.filter(readsEnvironment).sort()).toStrictEqual(Object.keys(ALLOWED).sort());
  });

  it("tells a read from a comment that mentions one", () => {
    expect(READS.some((pattern) => pattern.test("const { DATABASE_URL } = process.env;"))).toBe(true);
    expect(READS.some((pattern) => pattern.test("const { env: e } = process;"))).toBe(true);
    expect(transformSync("// process.env.X\n/** process.env */\nexport const x = 1;", { loader: "ts" }).code).not.toContain("process");
  });
});
