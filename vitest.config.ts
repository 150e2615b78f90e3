import { fileURLToPath } from "node:url";
import { defineConfig, type TestProjectInlineConfiguration } from "vitest/config";

// Suites by what they need: `npm test` runs unit, pglite and edge (nothing but npm
// packages); .ci/run adds postgres (Debian's server), procedures (the README's
// procedures, on that server too), browser (Debian's Chromium) and vercel and
// vercel-dev (the Vercel CLI).
function project(name: string, include: string[], test: TestProjectInlineConfiguration["test"] = {}): TestProjectInlineConfiguration {
  return {
    resolve: {
      alias: {
        "server-only": fileURLToPath(new URL("./tests/support/server-only.ts", import.meta.url)),
        "@/": fileURLToPath(new URL("./", import.meta.url)),
      },
    },
    test: {
      name,
      include,
      exclude: ["node_modules/**"],
      // next-auth imports "next/server" without an extension, which only a bundler
      // resolves: let Vite process it.
      server: { deps: { inline: ["next-auth"] } },
      // expect.poll waits on a condition: up to 15 s (not vitest's 1 s), as
      // tests/support/eventually.ts does; a refresh behind a page took over 1 s
      // with slow statements. A condition met returns at once.
      expect: { poll: { timeout: 15_000 } },
      // What an interrupted run left in the temp dir (testkit/left-behind.ts).
      globalSetup: ["testkit/left-behind.ts"],
      ...test,
    },
  };
}

const slow = { testTimeout: 120_000, hookTimeout: 300_000, fileParallelism: false };

export default defineConfig({
  test: {
    projects: [
      project("unit", ["**/*.unit.test.ts"]),
      project("pglite", ["tests/pglite/**/*.test.ts"], slow),
      project("postgres", ["tests/postgres/**/*.test.ts"], slow),
      project("edge", ["tests/edge/**/*.test.ts"], slow),
      project("vercel", ["tests/vercel/**/*.test.ts"]),
      // `npm run vercel-dev` in a fresh clone (npm ci, the Vercel CLI, next dev).
      project("vercel-dev", ["tests/vercel-dev/**/*.test.ts"], { ...slow, testTimeout: 300_000, hookTimeout: 900_000 }),
      project("browser", ["tests/e2e/**/*.test.ts"], { ...slow, testTimeout: 300_000, hookTimeout: 900_000 }),
      // The README's procedures against `npm start` itself (each start builds the app).
      project("procedures", ["tests/procedures/**/*.test.ts"], { ...slow, testTimeout: 600_000 }),
    ],
  },
});
