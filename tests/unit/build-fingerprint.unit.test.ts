import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { buildFingerprint, forgetBuild, isBuildCurrent, recordBuild } from "@/dev/build-fingerprint";
import { scratchDir } from "../../testkit/scratch";

// `npm start` serves the existing build when this fingerprint is unchanged: it must
// change with anything `next build` reads, and only with that.
let repo: string;
const write = (file: string, content: string) => writeFileSync(join(repo, file), content);
const fingerprint = (env: Record<string, string> = {}) => buildFingerprint(repo, env);

beforeEach(() => {
  repo = scratchDir("tokenkeeper-fingerprint-");
  execFileSync("git", ["init", "--quiet"], { cwd: repo });
  write(".gitignore", "ignored/\n.next/\n");
  write("page.tsx", "export default 1;\n");
  write("package-lock.json", '{"lockfileVersion":3}\n');
  execFileSync("git", ["add", "-A"], { cwd: repo });
});

describe("buildFingerprint", () => {
  it("is the same for the same sources, and comes back when a change is undone", () => {
    const before = fingerprint();
    expect(fingerprint()).toBe(before);
    write("page.tsx", "export default 2;\n");
    expect(fingerprint()).not.toBe(before);
    write("page.tsx", "export default 1;\n");
    expect(fingerprint()).toBe(before);
  });

  it.each([
    ["an edited tracked source", () => write("page.tsx", "export default 2;\n")],
    ["a new file git would track", () => write("route.ts", "export {};\n")],
    ["a changed lockfile (dependencies)", () => write("package-lock.json", '{"lockfileVersion":3,"packages":{}}\n')],
    ["a deleted tracked file", () => rmSync(join(repo, "page.tsx"))],
  ])("changes with %s", (_label, change) => {
    const before = fingerprint();
    change();
    expect(fingerprint()).not.toBe(before);
  });

  it("ignores what git ignores (the build itself, local data)", () => {
    const before = fingerprint();
    mkdirSync(join(repo, "ignored"));
    write("ignored/data.json", "{}");
    mkdirSync(join(repo, ".next"));
    write(".next/BUILD_ID", "x");
    expect(fingerprint()).toBe(before);
  });

  it("changes with the variables next build inlines, not with those the app reads at run time", () => {
    const before = fingerprint();
    expect(fingerprint({ NEXT_PUBLIC_SITE: "a" })).not.toBe(before);
    expect(fingerprint({ NODE_ENV: "test" })).not.toBe(before);
    expect(fingerprint({ DATABASE_URL: "postgresql://x@h/db", AUTH_SECRET: "s" })).toBe(before);
  });

  it("is undefined outside a git checkout, and no build is then current", () => {
    const plain = scratchDir("tokenkeeper-plain-");
    expect(buildFingerprint(plain, {})).toBeUndefined();
    expect(isBuildCurrent(plain, undefined)).toBe(false);
  });
});

describe("isBuildCurrent / recordBuild / forgetBuild", () => {
  it("is current only with a finished build recorded from the same fingerprint", () => {
    const current = fingerprint()!;
    expect(isBuildCurrent(repo, current)).toBe(false); // no build
    mkdirSync(join(repo, ".next"));
    recordBuild(repo, current);
    expect(isBuildCurrent(repo, current)).toBe(false); // no BUILD_ID: next build did not finish
    write(".next/BUILD_ID", "x");
    expect(isBuildCurrent(repo, current)).toBe(true);
    write("page.tsx", "export default 2;\n");
    expect(isBuildCurrent(repo, fingerprint())).toBe(false);
    forgetBuild(repo);
    expect(isBuildCurrent(repo, current)).toBe(false);
  });
});
