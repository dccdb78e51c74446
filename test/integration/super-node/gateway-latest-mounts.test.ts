/**
 * A `/fn` call through a super node's HTTP gateway, with redundancy 2, of a function whose
 * manifest mounts a drive at "latest" while the drive's owner writes new versions as fast as
 * it can: the gateway pins one version before the call (asked of its own executor and its
 * peer, checked against the drive's signed log), so both executors read the same bytes,
 * agree, and the receipts the HTTP client gets name the same version.
 */
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { sharedExecutor } from '../../helpers/invoke.ts'
import { laggingExecutor, latestMountFunction } from '../../helpers/latest-mount.ts'
import { startSuperNode } from '../../helpers/super-node.ts'
import { RacingWriter } from '../../helpers/racing-writer.ts'

/** Calls made while the writer writes. */
const CALLS = 5
/** Most versions the writer writes: bounds its loop whatever the calls take. */
const MAX_WRITES = 20_000
/** Versions the slower executor is behind. */
const BEHIND = 3

interface Answer { status: number, code: string | null, mounts: unknown[] }

async function call (url: string): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', body: '', headers: { 'shadw-redundancy': '2', 'shadw-deadline': '60000' } })
  await res.arrayBuffer()
  const receipts = JSON.parse(res.headers.get('shadw-receipts') ?? '[]') as Array<{ mounts?: unknown }>
  return { status: res.status, code: res.headers.get('shadw-error-code'), mounts: receipts.map(r => r.mounts) }
}

describe('a /fn call over a manifest\'s "latest" mount under a racing writer', () => {
  it('reaches its redundancy-2 quorum and both receipts name one version', async () => {
    const superNode = await startSuperNode({ workers: 1 })
    const net = { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet
    const { drive, ref } = await latestMountFunction(net, 20_000)
    const race = new RacingWriter(drive, MAX_WRITES)
    // a second executor, a little behind: each of its loads waits for a few more versions
    await laggingExecutor(net, sharedExecutor(2), race, BEHIND)
    const url = new URL(`/fn/${ref}`, superNode.info.appUrl).href
    // until the gateway sees both executors and both have the function and the drive
    let warm: Answer = { status: 0, code: null, mounts: [] }
    for (let i = 0; i < 60 && !(warm.status === 200 && warm.mounts.length === 2); i++) {
      if (i > 0) await new Promise(resolve => setTimeout(resolve, 500))
      warm = await call(url)
    }
    expect([warm.status, warm.mounts]).toEqual([200, [[{ drive: drive.key, version: 2 }], [{ drive: drive.key, version: 2 }]]])

    race.start()
    try {
      const seen: number[] = []
      for (let i = 0; i < CALLS; i++) {
        const res = await call(url)
        expect([res.status, res.code]).toEqual([200, null])
        expect(res.mounts).toHaveLength(2)
        expect(res.mounts[1]).toEqual(res.mounts[0])
        const version = (res.mounts[0] as Array<{ version: number }>)[0]?.version as number
        expect(version).toBeGreaterThanOrEqual(2)
        expect(version).toBeLessThanOrEqual(drive.version)
        seen.push(version)
      }
      expect(new Set(seen).size).toBeGreaterThan(1)
      expect(race.written).toBeGreaterThan(0)
    } finally {
      await race.stop()
      await superNode.stop()
    }
  }, 240_000)
})
