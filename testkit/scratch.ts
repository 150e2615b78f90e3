// Folders a test writes to and nothing else reads: each is removed when its test ends.
// An embedded database alone is ~40 MB, and a CI machine's disk is not ours to fill.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";

/** A new empty folder under the OS temp dir, named `prefix…`; removed, with all it holds, when the calling test ends. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
