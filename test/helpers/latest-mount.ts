/**
 * The setup the "latest"-mount tests share (invoke endpoint, gateway, CLI): a drive written by
 * a node of its own with one file, a published function that mounts it at "latest", and an
 * executor whose function loads lag a racing writer (racing-writer.ts).
 */
import type { Testnet } from 'hyperdht/testnet'
import { Drive } from '../../src/core/drive/index.ts'
import type { Executor } from '../../src/core/sandbox/index.ts'
import { cWasm } from '../fixtures/wasm/fixtures.ts'
import { executorNode, publisher } from './invoke.ts'
import { pattern, type RacingWriter } from './racing-writer.ts'
import { testNode } from './testnet.ts'

/** A drive with `/data/blob` of `bytes` bytes, and the ref of `read-latest@1.0.0`, which reads it mounted at "latest" on /data. */
export async function latestMountFunction (net: Testnet, bytes: number): Promise<{ drive: Drive, ref: string }> {
  const writer = await testNode(net)
  const { drive } = await Drive.create(writer)
  await drive.put('/data/blob', [pattern(bytes, 0)])
  const pub = await publisher(net)
  const ref = await pub.publish(cWasm('fs-read-kernel'), {
    name: 'read-latest',
    version: '1.0.0',
    mounts: [{ drive: drive.key, version: 'latest', path: '/data', from: '/data' }]
  })
  return { drive, ref }
}

/**
 * An executor a little behind the others, as a busier or farther one is: each of its function
 * loads (none cached) waits until `race` wrote `behind` more versions. Left to pin "latest"
 * each for itself, it and a faster one read different versions and disagree.
 */
export async function laggingExecutor (net: Testnet, executor: Executor, race: RacingWriter, behind: number): Promise<void> {
  await executorNode(net, executor, {
    drives: true,
    functionCacheMs: 0,
    functions: loader => ({
      load: async (r, opts) => {
        await race.lag(behind)
        return await loader.load(r, opts)
      }
    })
  })
}
