/**
 * The key-holder role of a super node: it keeps shares of condition-gated keys for dealers and
 * releases them after its own checks (core/keys). Its gate reads chains over the same `--rpc`
 * endpoints as the executor's, with a replay guard of its own; its release records go to a
 * log of their own (`key-releases`), so the executor's receipt ledger keeps its indexes.
 */
import { AccessGate, ChainGate, ChainReader } from '../core/access/index.ts'
import { KeyService, keyHoldersTopic } from '../core/keys/index.ts'
import { log } from '../core/log.ts'
import type { ShadwNode } from '../core/node/index.ts'

/** The log a key holder appends its signed release records to. */
export const KEY_RELEASES_LOG_NAME = 'key-releases'
const debug = log('shadw:key-holder')

export interface KeyHolderRole { service: KeyService, releasesKey: string, stop (): void }

/** Starts holding keys: the key channel on every connection, announced on the key holders' topic. */
export async function startKeyHolder (node: ShadwNode, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, opts: { domain: string, rpc?: Record<string, string[]> }): Promise<KeyHolderRole> {
  const log = await node.createLog(KEY_RELEASES_LOG_NAME)
  const gate = new AccessGate({
    domain: opts.domain,
    ...(opts.rpc === undefined || Object.keys(opts.rpc).length === 0 ? {} : { chain: new ChainGate({ reader: new ChainReader({ endpoints: opts.rpc }) }) })
  })
  const service = new KeyService({ host: node, keyPair, holder: { gate, ledger: { append: async blocks => await node.append(log.key, blocks) } } })
  service.start()
  // announced in the background: start-up does not wait another DHT round
  node.joinTopic(keyHoldersTopic(), { server: true, client: true }).catch((err: unknown) => { debug('key holders topic', err) })
  return { service, releasesKey: log.key, stop: () => { service.stop() } }
}
