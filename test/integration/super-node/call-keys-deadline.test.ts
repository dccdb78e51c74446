import '../../helpers/quiet-lit.ts'
import b4a from 'b4a'
import Corestore from 'corestore'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalAccount } from 'viem/accounts'
import { signAuth, type FunctionId } from '../../../src/core/access/index.ts'
import { DEFAULT_INVOKE_DEADLINE_MS } from '../../../src/core/invoke/index.ts'
import { nodeIdentity } from '../../../src/core/node/index.ts'
import { chooseHolders, dealKey, keyIdOf } from '../../../src/core/keys/index.ts'
import type { SuperNode } from '../../../src/super-node/super-node.ts'
import { cWasm } from '../../fixtures/wasm/fixtures.ts'
import { type EvmNode, HARDHAT_CHAIN, startEvmNode } from '../../helpers/evm.ts'
import { callerNode, publisher, until } from '../../helpers/invoke.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'
import { testnet } from '../../helpers/testnet.ts'
import { newCall } from '../../helpers/key-releases.ts'
import { erc20Gate, keyDealer } from '../../helpers/keyed-calls.ts'

const DOMAIN = 'app.shadw.test'
const SECRET = 'sk-live-0123456789abcdef'
/** New callers, two keyed calls each, all at once. */
const CALLERS = 6

/** The node key a super node on `storage` will have. */
async function identityOf (storage: string): Promise<string> {
  const store = new Corestore(storage)
  try { return b4a.toString((await nodeIdentity(store)).publicKey, 'hex') } finally { await store.close() }
}

describe('keyed calls on an executor that holds no keys', () => {
  let evm: EvmNode
  beforeAll(async () => { evm = await startEvmNode() }, 120_000)
  afterAll(async () => { await evm?.stop() })

  it('the first keyed call succeeds within the default deadline, and concurrent keyed calls leak no listeners', async () => {
    const holder = evm.accounts[3] as LocalAccount
    const { access } = await erc20Gate(evm, holder)
    const signer = { getAddress: async () => holder.address, signMessage: async (message: string) => await holder.signMessage({ message }) }

    const warnings: Error[] = []
    const onWarning = (w: Error): void => { warnings.push(w) }
    process.on('warning', onWarning)
    try {
      const net = await testnet()
      const bootstrap = net.bootstrap.map(b => `${b.host}:${b.port}`)
      const rpc = { [HARDHAT_CHAIN]: [evm.url] }
      const supers: SuperNode[] = []
      for (let i = 0; i < 3; i++) supers.push(await startSuperNode({ storage: await tempDir(), workers: 0, bootstrap, keyHolder: true, rpc }))
      // the executor's key, known before it starts: the secret is dealt to it, then it starts cold
      const storage = await tempDir()
      const exec = await identityOf(storage)
      const candidates = supers.map(s => s.info.publicKey)

      const pub = await publisher(net)
      const fn: FunctionId = { publisher: pub.registry.key, name: 'secret-env', version: '1.0.0' }
      const { node: dealerNode, keys } = await keyDealer(net, candidates, 'the dealer reaches the key holders')
      const holders = chooseHolders(keyIdOf(dealerNode.publicKey, fn), candidates, 3)
      const layout = await dealKey(keys, { key: b4a.from(SECRET), fn, access, domains: [DOMAIN], executors: [exec], holders, threshold: 2 })
      keys.stop()
      const ref = await pub.publish(cWasm('print-env'), {
        name: fn.name,
        version: fn.version,
        access,
        authDomains: [DOMAIN],
        secrets: [{ name: 'API_KEY', keyId: layout.keyId, dealer: layout.dealer, threshold: 2, holders, executors: [exec] }]
      })
      const executor = await startSuperNode({ storage, workers: 4, bootstrap, rpc })
      expect(executor.info.publicKey).toBe(exec)
      const caller = await callerNode(net)
      await until('the caller sees the executor', () => caller.endpoint.peers().some(p => p.key === exec && p.capacity !== null), 60_000)
      const input = b4a.from('API_KEY\n')
      const call = async (endpoint = caller.endpoint): Promise<string> => {
        const r = await endpoint.invoke(ref, input, { deadline: DEFAULT_INVOKE_DEADLINE_MS, auth: await signAuth(signer, { domain: DOMAIN, fn, call: newCall() }) })
        return b4a.toString(r.output)
      }

      // the executor looks for the key holders from its start, not from its first keyed call
      await until('the key holders see the executor on their key channel', () => supers.every(s => s.keys?.service.peers().includes(exec) === true), 30_000)
      // and its first keyed call fits the deadline a caller gets by default
      expect(await call()).toBe(`API_KEY=${SECRET}\n`)

      // callers new to the executor, each on a connection of its own, call at once: every
      // protocol the executor speaks (the key channel now too) opens on each new connection
      const callers = await Promise.all(Array.from({ length: CALLERS }, async () => await callerNode(net)))
      await until('the callers see the executor', () => callers.every(c => c.endpoint.peers().some(p => p.key === exec && p.capacity !== null)), 60_000)
      const outs = await Promise.all(callers.flatMap(c => [c, c]).map(async c => await call(c.endpoint).catch((err: unknown) => (err as Error).message)))
      for (const o of outs) expect(o === `API_KEY=${SECRET}\n` || o.includes('BUSY')).toBe(true)
      expect(outs.filter(o => o === `API_KEY=${SECRET}\n`).length).toBeGreaterThan(0)
      // the warnings of a listener leak are emitted on the next tick
      await new Promise(resolve => setTimeout(resolve, 100))
      expect(warnings.filter(w => w.name === 'MaxListenersExceededWarning').map(w => w.stack)).toEqual([])
    } finally {
      process.off('warning', onWarning)
    }
  }, 300_000)
})
