import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";

// What Vercel deploys, checked from `next build`'s own manifests (vercel build
// needs the Vercel CLI and project link; the manifests carry the same facts).
const root = join(import.meta.dirname, "..", "..");
const next = join(root, ".next");
const read = (file: string) => JSON.parse(readFileSync(join(next, file), "utf8"));
const EDGE_BUDGET_GZIP_BYTES = 120 * 1024;

beforeAll(() => {
  const build = spawnSync(process.execPath, [join(root, "node_modules/next/dist/bin/next"), "build"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (build.status !== 0) throw new Error(`next build failed:\n${build.stdout}\n${build.stderr}`);
});

describe("next build output", () => {
  it("builds the middleware as an edge function within the size budget", () => {
    const middleware = read("server/middleware-manifest.json").middleware["/"];
    expect(middleware, "middleware.ts must be built as edge middleware").toBeDefined();
    const gzipBytes = middleware.files.reduce((sum: number, file: string) => sum + gzipSync(readFileSync(join(next, file))).length, 0);
    console.log(`edge middleware from next build: ${(gzipBytes / 1024).toFixed(1)} KB gzip (budget ${EDGE_BUDGET_GZIP_BYTES / 1024} KB)`);
    expect(gzipBytes).toBeLessThan(EDGE_BUDGET_GZIP_BYTES);
    expect(middleware.matchers.map((m: { originalSource: string }) => m.originalSource)).toStrictEqual(["/dashboard/:path*", "/api/:path*"]);
  });

  it("builds the cron and Auth.js routes as Node functions, never edge", () => {
    const appPaths = read("server/app-paths-manifest.json");
    const edgeFunctions = Object.keys(read("server/middleware-manifest.json").functions);
    // The catch-all answers JSON 404s for every path under /api no other route serves.
    for (const route of ["/api/cron/refresh-tokens/route", "/api/auth/[...nextauth]/route", "/api/accounts/route", "/api/[...path]/route"]) {
      expect(appPaths[route], route).toMatch(/\.js$/);
      expect(edgeFunctions).not.toContain(route);
    }
  });

  it("schedules the crons in vercel.json, and states each cron route's maxDuration once, in the route (#17)", () => {
    const vercel = JSON.parse(readFileSync(join(root, "vercel.json"), "utf8"));
    expect(vercel.crons).toStrictEqual([
      { path: "/api/cron/refresh-tokens", schedule: "*/10 * * * *" },
      { path: "/api/cron/webhooks", schedule: "* * * * *" },
    ]);
    expect(vercel.functions).toBeUndefined();
    for (const route of ["refresh-tokens", "refresh-tokens/worker", "webhooks"]) {
      expect(readFileSync(join(root, `app/api/cron/${route}/route.ts`), "utf8")).toMatch(/^export const maxDuration = 60;$/m);
    }
  });
});
