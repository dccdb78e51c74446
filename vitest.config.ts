import { defineConfig } from 'vitest/config'

// Node-side tests: unit tests of the isomorphic core, integration tests on a local HyperDHT
// testnet, and browser tests that drive real headless Chromium through playwright-core.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    // Lit 7 announces its own deprecated constants through depd on every import
    env: { NO_DEPRECATION: 'lit-js-sdk:constants:errors,lit-js-sdk:constants:constants' },
    hookTimeout: 60_000,
    // two cores: browser tests each start a Chromium, so keep concurrency low
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'] } },
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'], fileParallelism: false } }
    ]
  }
})
