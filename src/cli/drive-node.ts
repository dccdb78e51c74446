/**
 * The light node a drive command runs: on the DHT given by `--bootstrap` (or the one the
 * super node at `--node` reports), with its drive data in a Corestore on disk (`--storage`,
 * default the user's data directory), so a drive's owner appends to the log it wrote and a
 * large file never sits in memory.
 */
import { join } from 'node:path'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwError } from '../core/errors.ts'
import { ShadwNode } from '../core/node/index.ts'
import { defaultDir } from '../super-node/data-dir.ts'
import { DEFAULT_PORT, parseBootstrap } from '../super-node/super-node.ts'
import { bootstrapOf } from './invoke.ts'

/** The options every networked drive command takes. */
export const DRIVE_NODE_OPTIONS = {
  bootstrap: { type: 'string' },
  node: { type: 'string' },
  storage: { type: 'string' }
} as const

/** Where drive commands keep drive data by default. */
export function defaultDriveStorage (): string {
  return join(defaultDir('data'), 'drives')
}

/** A running light node for one command; `stop()` leaves the swarm and closes storage. */
export interface DriveNode {
  node: ShadwNode
  stop (): Promise<void>
}

/**
 * Starts the light node from the command's `--bootstrap`/`--node`/`--storage` values
 * (`keyPair`: a swarm identity of the command's own; `inMemory`: for a command that reads no
 * drive data, so it runs beside another holding the storage).
 */
export async function startDriveNode (values: { bootstrap?: string, node?: string, storage?: string, keyPair?: { publicKey: Uint8Array, secretKey: Uint8Array }, inMemory?: boolean }): Promise<DriveNode> {
  if (values.bootstrap !== undefined && values.node !== undefined) throw ShadwError.INVALID_ARGUMENT('--bootstrap and --node exclude each other')
  const bootstrap = values.bootstrap !== undefined ? values.bootstrap.split(',').filter(Boolean) : await bootstrapOf(values.node ?? `http://127.0.0.1:${DEFAULT_PORT}/`)
  const entries = parseBootstrap(bootstrap)
  // a DHT on loopback needs every node bound to 127.0.0.1 (see super-node.ts)
  const loopback = entries.every(e => e.host === '127.0.0.1' || e.host === 'localhost')
  const dht = new HyperDHT(loopback ? { bootstrap: entries, host: '127.0.0.1' } : { bootstrap: entries })
  const swarm = new Hyperswarm({ dht, keyPair: values.keyPair ?? crypto.keyPair() })
  const store = new Corestore(values.inMemory === true ? RAM.reusable() : values.storage ?? defaultDriveStorage())
  const node = new ShadwNode({ swarm, store, tier: 'light' })
  try {
    await node.start()
  } catch (err) {
    await node.stop().catch(() => {})
    await dht.destroy()
    throw err
  }
  return {
    node,
    stop: async () => {
      await node.stop()
      await dht.destroy()
    }
  }
}
