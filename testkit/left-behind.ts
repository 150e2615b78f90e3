// The tests' folders under the OS temp dir, named for the process that made them. A
// run stopped by Ctrl-C or a timeout never reaches its cleanup (a stack's stop(), a
// scratch folder's onTestFinished), and a stack's home holds an embedded database
// (~40 MB): the next run removes the folders of processes that are gone.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const OURS = /^tokenkeeper-[a-z-]+-(\d+)-[A-Za-z0-9]{6}$/;

/** A new empty folder under the OS temp dir, named `prefix<pid>-…` (`prefix`: "tokenkeeper-…-"). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}${process.pid}-`));
}

const running = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // another user's
  }
};

/** Vitest global setup: removes the folders tempDir made for processes no longer running. */
export default function removeLeftBehind(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = OURS.exec(name)?.[1];
    if (pid && !running(Number(pid))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}
