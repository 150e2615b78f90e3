import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// Reads `vercel build`'s output (.ci/vercel-build.sh makes it): what Vercel deploys.
const output = join(import.meta.dirname, "..", "..", ".vercel", "output");
const read = (file: string) => JSON.parse(readFileSync(join(output, file), "utf8"));

describe("vercel build output", () => {
  it("exists (run .ci/vercel-build.sh first)", () => {
    expect(existsSync(join(output, "config.json"))).toBe(true);
  });

  it("deploys the middleware as an edge function", () => {
    expect(read("functions/middleware.func/.vc-config.json")).toMatchObject({ runtime: "edge", name: "middleware" });
  });

  it.each(["api/cron/refresh-tokens", "api/cron/refresh-tokens/worker", "api/cron/webhooks", "api/auth/[...nextauth]", "api/accounts", "dashboard"])("deploys %s as a Node function", (route) => {
    expect(read(`functions/${route}.func/.vc-config.json`).runtime).toMatch(/^nodejs\d+\.x$/);
  });

  it("gives the cron function its maxDuration and ships the Prisma query compiler and Neon driver with it", () => {
    const config = read("functions/api/cron/refresh-tokens.func/.vc-config.json");
    expect(config.maxDuration).toBe(60);
    const files = Object.keys(config.filePathMap ?? {});
    expect(files.some((file) => file.includes("@prisma/client/runtime/query_compiler"))).toBe(true);
    expect(files.some((file) => file.includes("@neondatabase/serverless/index.mjs"))).toBe(true);
  });

  it("carries the cron schedules: the sweep every 10 minutes, webhook retries every minute", () => {
    expect(read("config.json").crons).toStrictEqual([
      { path: "/api/cron/refresh-tokens", schedule: "*/10 * * * *" },
      { path: "/api/cron/webhooks", schedule: "* * * * *" },
    ]);
  });
});
