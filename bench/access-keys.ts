/**
 * Condition-gated keys over the wire: five key holders and a requester on a loopback HyperDHT
 * testnet, each holder deciding with its own gate over the same Hardhat endpoint. Measures a
 * requester's 3-of-5 fetch (request to all five, their checks, sealed releases and ledger
 * appends, the commitment check and the rebuild) and one rotation of the shares to the same
 * five holders (expect, reshare with sub-shares between holders, commit). Part of
 * `npm run bench -- access`.
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import createTestnet from 'hyperdht/testnet'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { AccessGate, ChainGate, type ChainReader, type FunctionId } from '../src/core/access/index.ts'
import { dealKey, fetchKey, keyHoldersTopic, KeyService, rotateKey } from '../src/core/keys/index.ts'
import { ShadwNode } from '../src/core/node/index.ts'

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number

/** Median ms of `fetches` 3-of-5 key fetches and of `rotations` rotations, over the wire. */
export async function keysOverWire (opts: { reader: ChainReader, access: unknown[], fn: FunctionId, domain: string, auth: () => Promise<unknown>, fetches: number, rotations: number }): Promise<{ fetchMs: number, rotateMs: number }> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const closers: Array<() => Promise<void>> = []
  const start = async (holder: boolean): Promise<KeyService> => {
    const keyPair = crypto.keyPair()
    const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1', firewalled: false })
    const node = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair }), store: new Corestore(RAM.reusable()), tier: holder ? 'super' : 'light' })
    await node.start()
    const ledger = holder ? await node.createLog('ledger') : null
    const service = new KeyService({
      host: node,
      keyPair,
      ...(ledger === null ? {} : { holder: { gate: new AccessGate({ domain: opts.domain, chain: new ChainGate({ reader: opts.reader, headTtlMs: 3_600_000 }) }), ledger: { append: async (blocks: Uint8Array[]) => await node.append(ledger.key, blocks) } } })
    })
    service.start()
    await node.joinTopic(keyHoldersTopic(), { server: holder, client: true })
    closers.push(async () => { service.stop(); await node.stop(); await dht.destroy() })
    return service
  }
  try {
    const holders: KeyService[] = []
    for (let i = 0; i < 5; i++) holders.push(await start(true))
    const dealer = await start(false)
    const keys = holders.map(h => h.publicKey)
    const end = Date.now() + 60_000
    while (!(keys.every(k => dealer.holders().includes(k)) && holders.every(h => keys.every(k => k === h.publicKey || h.peers().includes(k))))) {
      if (Date.now() > end) throw new Error('the holders did not all meet within a minute')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    const secret = crypto.randomBytes(32)
    let layout = await dealKey(dealer, { key: secret, fn: opts.fn, access: opts.access, domains: [opts.domain], holders: keys, threshold: 3 })
    const fetches: number[] = []
    for (let i = 0; i < opts.fetches; i++) {
      const auth = await opts.auth()
      const t = performance.now()
      const got = await fetchKey(dealer, { keyId: layout.keyId, dealer: layout.dealer, holders: keys, threshold: 3, auth })
      fetches.push(performance.now() - t)
      if (!b4a.equals(got.key, secret)) throw new Error('fetched the wrong key')
    }
    const rotations: number[] = []
    for (let i = 0; i < opts.rotations; i++) {
      const t = performance.now()
      layout = await rotateKey(dealer, layout, { fn: opts.fn, access: opts.access, domains: [opts.domain], holders: keys, threshold: 3 })
      rotations.push(performance.now() - t)
    }
    const after = await fetchKey(dealer, { keyId: layout.keyId, dealer: layout.dealer, holders: keys, threshold: 3, auth: await opts.auth() })
    if (!b4a.equals(after.key, secret) || after.epoch !== opts.rotations) throw new Error('the rotated shares do not rebuild the key')
    return { fetchMs: median(fetches), rotateMs: median(rotations) }
  } finally {
    for (const close of closers.reverse()) await close()
    await net.destroy()
  }
}
