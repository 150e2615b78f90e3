import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import removeLeftBehind, { tempDir } from "../../testkit/left-behind";
import { scratchDir } from "../../testkit/scratch";

// What a run stopped by Ctrl-C or a timeout left: the next run removes it, and only it.
const tmp = process.env.TMPDIR;
afterEach(() => {
  if (tmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = tmp;
});

describe("the tests' temp folders", () => {
  it("are removed by the next run once the process that made them is gone", () => {
    process.env.TMPDIR = scratchDir("tokenkeeper-left-behind-");
    const gone = spawnSync(process.execPath, ["-e", ""]).pid!;
    const left = join(process.env.TMPDIR, `tokenkeeper-test-${gone}-AbC123`);
    mkdirSync(join(left, "pglite"), { recursive: true });
    writeFileSync(join(left, "pglite", "PG_VERSION"), "17\n");
    const running = tempDir("tokenkeeper-test-");
    for (const other of ["tokenkeeper-pg.AbC123", "tokenkeeper-ci.AbC123", "68QtjGoXs42iflD1aaN2N"]) mkdirSync(join(process.env.TMPDIR, other));

    removeLeftBehind();
    expect(existsSync(left)).toBe(false);
    expect(readdirSync(process.env.TMPDIR).sort()).toStrictEqual(["68QtjGoXs42iflD1aaN2N", running.split("/").at(-1), "tokenkeeper-ci.AbC123", "tokenkeeper-pg.AbC123"].sort());
  });
});
