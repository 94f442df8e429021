import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources through the "@gradgraph/source" export
// condition; their "default" is the built dist/, which the pack test checks separately. The other
// conditions are Vite's defaults for server code, which setting the list would otherwise drop.
export default defineConfig({
  ssr: { resolve: { conditions: ["@gradgraph/source", "module", "node", "development|production"] } },
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "apps/*/test/**/*.test.ts",
      "tools/*/test/**/*.test.ts",
      "test/*.test.ts",
    ],
    // every test file runs with recycled gradient memory poisoned (NaN): see test/setup.ts
    setupFiles: ["test/setup.ts"],
    testTimeout: 60_000,
    pool: "threads",
  },
});
