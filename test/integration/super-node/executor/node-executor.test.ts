import { afterAll, describe } from 'vitest'
import { createNodeExecutor } from '../../../../src/super-node/executor/index.ts'
import type { Executor } from '../../../../src/core/sandbox/index.ts'
import { complianceSuite } from '../../../sandbox-compliance/suite.ts'
import { POOLS, runWireCalls, type PoolName } from '../../../sandbox-compliance/wire.ts'

describe('Node worker_threads executor', () => {
  const pools = new Map<PoolName, Executor>()
  afterAll(async () => {
    for (const p of pools.values()) await p.close()
  })
  complianceSuite(() => ({
    run: async (name, calls) => {
      let p = pools.get(name)
      if (p === undefined) {
        p = createNodeExecutor(POOLS[name])
        pools.set(name, p)
      }
      return await runWireCalls(p, calls)
    }
  }))
})
