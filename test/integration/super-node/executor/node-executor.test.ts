import { afterAll, describe } from 'vitest'
import { createNodeExecutor } from '../../../../src/super-node/executor/index.ts'
import type { Executor } from '../../../../src/core/sandbox/index.ts'
import { describeExecutor } from '../../../compliance/executor.ts'
import { POOLS, runWireCalls, type PoolName } from '../../../compliance/executor-wire.ts'

describe('Node worker_threads executor', () => {
  const pools = new Map<PoolName, Executor>()
  afterAll(async () => {
    for (const p of pools.values()) await p.close()
  })
  describeExecutor(() => ({
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
