/**
 * The key-holder role of a super node: it keeps shares of condition-gated keys for dealers and
 * releases them after its own checks (core/keys). Its gate reads chains over the same `--rpc`
 * endpoints as the executor's, with a replay guard of its own; its release records go to a
 * log of their own (`key-releases`), so the executor's receipt ledger keeps its indexes.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AccessGate, ChainGate, ChainReader } from '../core/access/index.ts'
import { callKeys, KeyService, keyHoldersTopic, type ShareStore } from '../core/keys/index.ts'
import type { CallKeys } from '../core/invoke/index.ts'
import { ShadwError } from '../core/errors.ts'
import { log } from '../core/log.ts'
import type { ShadwNode } from '../core/node/index.ts'

/** The log a key holder appends its signed release records to. */
export const KEY_RELEASES_LOG_NAME = 'key-releases'
const debug = log('shadw:key-holder')

/** Folder of the sealed shares, inside the node's storage. */
export const KEY_SHARES_DIR = 'key-shares'

/**
 * Sealed shares on disk, one file per key id (the service seals them before they get here, so
 * the files are useless without the node's secret key). Written to a temporary name and
 * renamed, so a crash leaves the old share or the new one, never half of one.
 */
export function fileShareStore (dir: string): ShareStore {
  const path = (keyId: string): string => {
    // key ids are checked hex on the wire; the check here keeps a path from ever leaving dir
    if (!/^[0-9a-f]{64}$/.test(keyId)) throw new Error('a key id is 64 hex characters')
    return join(dir, keyId)
  }
  return {
    async get (keyId) {
      try { return new Uint8Array(await readFile(path(keyId))) } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null
        throw err
      }
    },
    async put (keyId, bytes) {
      await mkdir(dir, { recursive: true, mode: 0o700 })
      const tmp = `${path(keyId)}.tmp`
      await writeFile(tmp, bytes, { mode: 0o600 })
      await rename(tmp, path(keyId))
    }
  }
}

export interface KeyHolderRole { service: KeyService, releasesKey: string, stop (): void }

/** Starts holding keys: the key channel on every connection, announced on the key holders' topic. */
export async function startKeyHolder (node: ShadwNode, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, opts: { domain: string, storage: string, rpc?: Record<string, string[]> }): Promise<KeyHolderRole> {
  const log = await node.createLog(KEY_RELEASES_LOG_NAME)
  const gate = new AccessGate({
    domain: opts.domain,
    ...(opts.rpc === undefined || Object.keys(opts.rpc).length === 0 ? {} : { chain: new ChainGate({ reader: new ChainReader({ endpoints: opts.rpc }) }) })
  })
  const service = new KeyService({ host: node, keyPair, holder: { gate, ledger: { append: async blocks => await node.append(log.key, blocks) }, store: fileShareStore(join(opts.storage, KEY_SHARES_DIR)) } })
  service.start()
  // announced in the background: start-up does not wait another DHT round
  node.joinTopic(keyHoldersTopic(), { server: true, client: true }).catch((err: unknown) => { debug('key holders topic', err) })
  return { service, releasesKey: log.key, stop: () => { service.stop() } }
}

/**
 * What the executor fetches the gated keys of its calls with: the key-holder role's own key
 * channel when this node holds keys too (one channel per connection), else a client of its
 * own, started with the executor: looking for the holders only once a call needs a key cost
 * that call a DHT round and a channel open with each holder, which the first keyed call on a
 * fresh executor could not afford within a caller's default deadline. Its channels ride the
 * connections the node has anyway, and the topic is joined as a client only.
 */
export function startCallKeys (node: ShadwNode, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, holder: KeyHolderRole | null): { keys: CallKeys, stop (): void } {
  if (holder !== null) return { keys: callKeys(holder.service), stop: () => {} }
  const service = new KeyService({ host: node, keyPair })
  service.start()
  node.joinTopic(keyHoldersTopic(), { server: false, client: true }).catch((err: unknown) => { debug('key holders topic', err) })
  const keys = callKeys(service)
  let stopped = false
  return {
    keys: {
      fetch: async (ref, req) => {
        if (stopped) throw ShadwError.NODE_CLOSED('the executor is stopping')
        return await keys.fetch(ref, req)
      }
    },
    stop: () => { stopped = true; service.stop() }
  }
}
