/**
 * A function whose manifest mounts a drive at "latest", called with redundancy while the
 * drive's owner writes new versions as fast as it can: the caller pins one version before the
 * call (asked of its executors, checked against the drive's signed log), so both executors
 * read the same bytes, agree, and their receipts name the same version.
 */
import { describe, expect, it } from 'vitest'
import { callerNode, executorNode, sharedExecutor } from '../../../helpers/invoke.ts'
import { laggingExecutor, latestMountFunction } from '../../../helpers/latest-mount.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { RacingWriter } from '../../../helpers/racing-writer.ts'

/** Calls made while the writer writes. */
const CALLS = 6
/** Most versions the writer writes: bounds its loop whatever the calls take (1-7 KiB each). */
const MAX_WRITES = 20_000
/** Versions the slower executor is behind the faster one. */
const BEHIND = 3

describe('a manifest\'s "latest" mount under a racing writer', () => {
  it('every redundancy-2 call reaches its quorum and both receipts name one version, which the caller checked exists', async () => {
    const net = await testnet()
    const { drive, ref } = await latestMountFunction(net, 20_000)
    const race = new RacingWriter(drive, MAX_WRITES)
    const executor = sharedExecutor(2)
    await executorNode(net, executor, { drives: true })
    // the second executor is a little behind the first: left to pin "latest" each for itself,
    // the two read different versions and disagree (QUORUM_FAILED, as calls without the caller's pin do)
    await laggingExecutor(net, executor, race, BEHIND)
    const caller = await callerNode(net, { drives: true })
    await caller.endpoint.waitForExecutors(2, { timeoutMs: 30_000 })
    // both executors have the function and have seen the drive before the race starts
    const warm = await caller.endpoint.invoke(ref, new Uint8Array(0), { redundancy: 2, deadline: 60_000 })
    expect(warm.receipts.map(r => r.mounts)).toEqual([[{ drive: drive.key, version: 2 }], [{ drive: drive.key, version: 2 }]])

    // the writer: a new version of the file at every step, each different bytes
    race.start()
    try {
      const seen: number[] = []
      for (let i = 0; i < CALLS; i++) {
        const res = await caller.endpoint.invoke(ref, new Uint8Array(0), { redundancy: 2, deadline: 60_000 })
        expect(res.receipts).toHaveLength(2)
        expect(res.dissenters).toEqual([])
        const versions = res.receipts.map(r => r.mounts)
        expect(versions[0]).toHaveLength(1)
        expect(versions[1]).toEqual(versions[0])
        const version = versions[0]?.[0]?.version as number
        // a version the drive really has, at most the writer's newest
        expect(version).toBeGreaterThanOrEqual(2)
        expect(version).toBeLessThanOrEqual(drive.version)
        seen.push(version)
      }
      // "latest" moved with the writer between the calls
      expect(new Set(seen).size).toBeGreaterThan(1)
      expect(race.written).toBeGreaterThan(0)
    } finally {
      await race.stop()
    }
  }, 240_000)

  it('executors that never held the publisher\'s registry still answer the pre-call round: the first call is pinned', async () => {
    const net = await testnet()
    const { drive, ref } = await latestMountFunction(net, 4096)
    // fresh executors with real loaders: neither follows the publisher before the question
    const executor = sharedExecutor(2)
    const a = await executorNode(net, executor, { drives: true })
    const b = await executorNode(net, executor, { drives: true })
    expect([a.service, b.service].every(s => s.executions === 0)).toBe(true)
    const caller = await callerNode(net, { drives: true })
    await caller.endpoint.waitForExecutors(2, { timeoutMs: 30_000 })
    const pinned = await caller.endpoint.pinMounts(ref, undefined, { budgetMs: 30_000 })
    expect(pinned).toEqual([{ drive: drive.key, version: drive.version, path: '/data', from: '/data' }])
    const res = await caller.endpoint.invoke(ref, new Uint8Array(0), { redundancy: 2, deadline: 60_000, pinManifest: false, ...(pinned === undefined ? {} : { mounts: pinned }) })
    expect(res.receipts.map(r => r.mounts)).toEqual([[{ drive: drive.key, version: drive.version }], [{ drive: drive.key, version: drive.version }]])
  }, 120_000)
})
