import { defineConfig } from 'vitest/config'

// Node-side tests: unit tests of the isomorphic core, integration tests on a local HyperDHT
// testnet, and browser tests that drive real headless Chromium through playwright-core.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    // Lit 7 announces its own deprecated constants through depd on every import
    // every DHT node on any free port: with HyperDHT's default (49737-49742 first) one test's
    // DHT takes over a port another test's node just freed, and the two testnets merge
    // (patches/hyperdht+*.patch says more)
    env: { NO_DEPRECATION: 'lit-js-sdk:constants:errors,lit-js-sdk:constants:constants', SHADW_DHT_ANY_PORT: '1' },
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
