import { configDefaults, defineConfig } from "vitest/config";

const BROWSER = "test/console/browser.test.ts";

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    setupFiles: ["test/helpers/property-seed.ts"],
    // The pinned SDK warns on Node 20 about releases after January 2027; privlink pins its SDK.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    projects: [
      {
        extends: true,
        test: {
          name: "main",
          include: ["src/**/*.test.ts", "test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, BROWSER],
        },
      },
      // Chromium starves on a 2-core machine running the whole suite beside it (React Flow
      // never measures its nodes): the browser tests run after everything else, alone.
      { extends: true, test: { name: "browser", include: [BROWSER], sequence: { groupOrder: 1 } } },
    ],
  },
});
