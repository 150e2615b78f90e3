import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Suites by what they need: `npm test` runs unit, pglite and edge (nothing but npm
// packages); .ci/run adds postgres (Debian's server) and browser (Debian's Chromium).
const shared = {
  alias: {
    "server-only": fileURLToPath(new URL("./tests/support/server-only.ts", import.meta.url)),
    "@/": fileURLToPath(new URL("./", import.meta.url)),
  },
};

export default defineConfig({
  test: {
    projects: [
      { resolve: shared, test: { name: "unit", include: ["**/*.unit.test.ts"], exclude: ["node_modules/**"] } },
      {
        resolve: shared,
        test: { name: "pglite", include: ["tests/pglite/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 120_000, fileParallelism: false },
      },
      {
        resolve: shared,
        test: { name: "postgres", include: ["tests/postgres/**/*.test.ts"], testTimeout: 120_000, hookTimeout: 120_000, fileParallelism: false },
      },
      { resolve: shared, test: { name: "edge", include: ["tests/edge/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 300_000 } },
      {
        resolve: shared,
        test: { name: "browser", include: ["tests/e2e/**/*.test.ts"], testTimeout: 180_000, hookTimeout: 600_000, fileParallelism: false },
      },
    ],
  },
});
