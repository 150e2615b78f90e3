// Folders a test writes to and nothing else reads: each is removed when its test ends.
// An embedded database alone is ~40 MB, and a CI machine's disk is not ours to fill.
import { rmSync } from "node:fs";
import { onTestFinished } from "vitest";
import { tempDir } from "./left-behind";

/** A new empty folder under the OS temp dir (see tempDir); removed, with all it holds, when the calling test ends. */
export function scratchDir(prefix: string): string {
  const dir = tempDir(prefix);
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
