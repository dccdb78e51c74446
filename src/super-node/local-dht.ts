import createTestnet, { type Testnet } from 'hyperdht/testnet'
import { log } from '../core/log.ts'

const debug = log('local-dht')

/**
 * Nodes in the embedded DHT: a DHT needs a few non-ephemeral nodes to store announcements,
 * and three keeps a lookup from depending on one node while costing next to nothing.
 */
export const LOCAL_DHT_SIZE = 3

/** A HyperDHT of our own on loopback: the default network of `shadw start`. */
export interface LocalDht {
  bootstrap: Array<{ host: string, port: number }>
  destroy (): Promise<void>
}

/** Starts the embedded DHT; `port` 0 picks a free UDP port for the bootstrap node. */
export async function startLocalDht (opts: { host?: string, port?: number, size?: number } = {}): Promise<LocalDht> {
  const testnet: Testnet = await createTestnet(opts.size ?? LOCAL_DHT_SIZE, { host: opts.host ?? '127.0.0.1', port: opts.port ?? 0 })
  debug('local DHT bootstrap', testnet.bootstrap)
  let destroyed: Promise<void> | null = null
  return {
    bootstrap: testnet.bootstrap,
    destroy: () => (destroyed ??= testnet.destroy())
  }
}
