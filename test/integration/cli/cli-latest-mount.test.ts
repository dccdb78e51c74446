/**
 * `shadw invoke --redundancy 2` of a function whose manifest mounts a drive at "latest",
 * while the drive's owner writes new versions in a tight loop: the CLI's fresh light node
 * pins the version before the call (asked of its executors, checked against the drive's
 * signed log), so the two executors agree and both receipts name that version.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import type { SignedReceipt } from '../../../src/core/ledger/index.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { sharedExecutor } from '../../helpers/invoke.ts'
import { laggingExecutor, latestMountFunction } from '../../helpers/latest-mount.ts'
import { startSuperNode } from '../../helpers/super-node.ts'
import { RacingWriter } from '../../helpers/racing-writer.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))
/** CLI calls made while the writer writes. */
const CALLS = 3
/** Most versions the writer writes: bounds its loop whatever the calls take (1-7 KiB each). */
const MAX_WRITES = 50_000
/** Versions the slower executor is behind the faster one. */
const BEHIND = 3

function shadw (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

describe('shadw invoke of a manifest with a "latest" mount', () => {
  it('--redundancy 2 under a racing writer: every call reaches its quorum and both receipts name the same version', async () => {
    const superNode = await startSuperNode({ workers: 1 })
    const net = { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet
    const { drive, ref } = await latestMountFunction(net, 4096)
    const race = new RacingWriter(drive, MAX_WRITES)
    // a second executor a few versions behind the super node's (see latest-mounts.test.ts)
    await laggingExecutor(net, sharedExecutor(1), race, BEHIND)
    const bootstrap = superNode.info.bootstrap.join(',')
    race.start()
    try {
      for (let i = 0; i < CALLS; i++) {
        const res = await shadw('invoke', ref, '--redundancy', '2', '--bootstrap', bootstrap, '--deadline', '60000', '--json')
        expect(res.stderr).toBe('')
        expect(res.code).toBe(0)
        const doc = JSON.parse(res.stdout) as { receipts: SignedReceipt[], dissenters: unknown[] }
        expect(doc.receipts).toHaveLength(2)
        expect(doc.dissenters).toEqual([])
        const mounts = doc.receipts.map(r => r.mounts)
        expect(mounts[0]).toHaveLength(1)
        expect(mounts[1]).toEqual(mounts[0])
        expect(mounts[0]?.[0]?.version).toBeLessThanOrEqual(drive.version)
      }
      expect(race.written).toBeGreaterThan(0)
    } finally {
      await race.stop()
    }
  }, 400_000)
})
