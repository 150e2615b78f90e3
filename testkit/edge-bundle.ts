// Bundles a middleware for workerd the way an edge bundle is built: ESM, neutral
// platform, edge/worker/browser export conditions, no Node built-ins available.
import { rmSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { tempDir } from "./left-behind";

export type EdgeBundle = { code: string; bytes: number; gzipBytes: number; inputs: string[] };

/** `entry`: worker.ts (one check per request) or many-checks.ts (x-checks per request, for CPU). */
export async function bundleMiddleware(middlewareFile: string, env: Record<string, string>, entry = "worker.ts"): Promise<EdgeBundle> {
  const result = await build({
    entryPoints: [new URL(`./edge-entries/${entry}`, import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    minify: true,
    write: false,
    metafile: true,
    conditions: ["edge-light", "workerd", "worker", "browser", "import"],
    mainFields: ["module", "main"],
    alias: { "middleware-under-test": middlewareFile },
    // Next's own edge build defines these too; some compiled modules in next/server read them.
    define: { __EDGE_ENV__: JSON.stringify(env), "process.env.NODE_ENV": '"production"', __dirname: '"/"' },
    logLevel: "silent",
  });
  const code = result.outputFiles[0]!.text;
  return { code, bytes: Buffer.byteLength(code), gzipBytes: gzipSync(code).length, inputs: Object.keys(result.metafile.inputs) };
}

/**
 * Miniflare running a bundle's `code`. Its temp folder is one of ours, which dispose()
 * removes before it returns: Miniflare's own dispose() only starts removing it, and a
 * process that exits next (a test worker, the bench) leaves it behind.
 */
export function startWorker(code: string): Miniflare {
  const dir = tempDir("tokenkeeper-miniflare-");
  const tmp = process.env.TMPDIR;
  process.env.TMPDIR = dir; // read by the constructor
  let mf: Miniflare;
  try {
    mf = new Miniflare({ modules: true, script: code, compatibilityDate: "2025-01-01" });
  } finally {
    if (tmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = tmp;
  }
  const dispose = mf.dispose.bind(mf);
  mf.dispose = async () => {
    await dispose();
    rmSync(dir, { recursive: true, force: true });
  };
  return mf;
}
