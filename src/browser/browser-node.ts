import Corestore from 'corestore'
import Hyperswarm from 'hyperswarm'
import { ShadwError } from '../core/errors.ts'
import { log } from '../core/log.ts'
import { nodeIdentity, ShadwNode, type NodeTier } from '../core/node/index.ts'
import type { BridgeStatus } from './bridge-protocol.ts'
import { connectRelay, validateRelayUrl, type RelayConnection } from './relay-connection.ts'

const debug = log('browser-node')

/** First wait before re-dialling a dropped relay; doubles up to the cap. */
export const RECONNECT_BASE_MS = 250
/** A browser keeps trying a lost relay, but never more often than this. */
export const RECONNECT_MAX_MS = 5_000

export interface BrowserNodeOptions {
  relayUrl: string
  /** random-access-storage factory (OPFS in the node worker, memory in tests of the host) */
  storage: unknown
  storageKind: BridgeStatus['storage']
  tier?: NodeTier
  leader: string
  /** called with every status change the app may want to show */
  onEvent?: (name: 'ready' | 'append' | 'peer' | 'relay', data: unknown) => void
}

/**
 * The browser host of a shadw node: storage from the worker, the DHT through a super node's
 * WebSocket relay, and re-dialling that relay for as long as the node runs.
 */
export class BrowserNode {
  readonly node: ShadwNode
  /** the node's Corestore: the browser publisher's registry lives in it beside the node's logs */
  readonly store: Corestore
  readonly #opts: BrowserNodeOptions
  #keyPair: { publicKey: Uint8Array, secretKey: Uint8Array } | null = null
  #relay: RelayConnection | null = null
  #relayState: BridgeStatus['relay']['state'] = 'connecting'
  #reconnects = 0
  #stopped = false
  readonly #abort = new AbortController()

  private constructor (opts: BrowserNodeOptions, node: ShadwNode, store: Corestore, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, relay: RelayConnection) {
    this.#opts = opts
    this.node = node
    this.store = store
    this.#keyPair = keyPair
    this.#relay = relay
    this.#relayState = 'connected'
    node.on('append', data => { opts.onEvent?.('append', data) })
    node.on('peer', (peer, state) => { opts.onEvent?.('peer', { ...peer, state }) })
    this.#watch(relay)
  }

  /** Opens storage, dials the relay and starts the node. */
  static async start (opts: BrowserNodeOptions): Promise<BrowserNode> {
    const relayUrl = validateRelayUrl(opts.relayUrl)
    const store = new Corestore(opts.storage)
    await store.ready()
    const keyPair = await nodeIdentity(store)
    let relay: RelayConnection
    try {
      relay = await connectRelay(relayUrl)
    } catch (err) {
      await store.close()
      throw err
    }
    const swarm = new Hyperswarm({ dht: relay.dht, keyPair })
    const node = new ShadwNode({ swarm, store, tier: opts.tier ?? 'shadow', classifyConnection: () => 'relay' })
    await node.start()
    const host = new BrowserNode({ ...opts, relayUrl }, node, store, keyPair, relay)
    opts.onEvent?.('ready', host.status())
    return host
  }

  /**
   * The node's swarm identity, for hosts that open Noise streams of their own with it (direct
   * WebRTC links, `src/browser/webrtc/`). Stays inside the node worker.
   */
  get keyPair (): { publicKey: Uint8Array, secretKey: Uint8Array } {
    if (this.#keyPair === null) throw ShadwError.NODE_CLOSED()
    return this.#keyPair
  }

  status (): BridgeStatus {
    return {
      ...this.node.status(),
      relay: { url: this.#opts.relayUrl, state: this.#relayState, reconnects: this.#reconnects },
      storage: this.#opts.storageKind,
      leader: this.#opts.leader
    }
  }

  /** Stops the node and closes storage; safe to call twice. */
  async stop (): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    this.#abort.abort()
    await this.node.stop()
    this.#relay?.socket.close()
  }

  #watch (relay: RelayConnection): void {
    relay.closed.then(() => {
      if (this.#stopped || this.#relay !== relay) return
      debug('relay connection closed; redialling')
      this.#setRelayState('disconnected')
      this.#redial().catch(err => { debug('redial ended', err) })
    }, () => {})
  }

  #setRelayState (state: BridgeStatus['relay']['state']): void {
    this.#relayState = state
    this.#opts.onEvent?.('relay', { state, reconnects: this.#reconnects })
  }

  async #redial (): Promise<void> {
    let delay = RECONNECT_BASE_MS
    while (!this.#stopped) {
      await sleep(delay, this.#abort.signal)
      if (this.#stopped || this.#keyPair === null) return
      this.#setRelayState('connecting')
      try {
        const relay = await connectRelay(this.#opts.relayUrl, { signal: this.#abort.signal })
        this.#relay = relay
        this.#reconnects++
        await this.node.replaceSwarm(new Hyperswarm({ dht: relay.dht, keyPair: this.#keyPair }))
        this.#setRelayState('connected')
        this.#watch(relay)
        debug('relay reconnected after', this.#reconnects, 'drops')
        return
      } catch (err) {
        if ((err as ShadwError).code === 'ABORTED') return
        debug('redial failed', err)
        this.#setRelayState('disconnected')
        delay = Math.min(delay * 2, RECONNECT_MAX_MS)
      }
    }
  }
}

function sleep (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
  })
}
