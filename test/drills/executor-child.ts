/**
 * Child process of the executor-kill drill: one executor node (ShadwNode + InvokeService over
 * a one-thread worker pool + InvokeEndpoint) on the super node's DHT. It follows the
 * publisher's registry and loads the drill's function before it reports ready (bounded), so
 * a call never waits on the registry. Prints JSON lines on stdout: `ready` (with its key) and
 * `started` the moment its executor begins a call. The parent kills it with SIGKILL.
 *
 * With `--hold`, a call it takes is reported `started` and then never run: a process stopped
 * mid-call, for tests of what its callers do when it is killed.
 *
 *   node --import tsx test/drills/executor-child.ts --bootstrap host:port[,..] --ref <publisher>/<name>@<version> [--hold]
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwNode } from '../../src/core/node/shadw-node.ts'
import { InvokeEndpoint, InvokeService } from '../../src/core/invoke/index.ts'
import { createNodeExecutor } from '../../src/super-node/executor/index.ts'
import { parseBootstrap } from '../../src/super-node/super-node.ts'
import { DEFAULT_CEILINGS, FunctionLoader } from '../../src/core/registry/index.ts'
import type { ExecuteCall, ExecuteOptions, ExecuteResult, Executor } from '../../src/core/sandbox/index.ts'

/** Bound on following the registry and loading the function (retried loads within it). */
const LOAD_MS = 60_000

/** Fuel ceiling of this node: the drill's function needs ~1e10-1e11. */
const FUEL = 1_000_000_000_000

const hold = process.argv.includes('--hold')
const arg = (name: string): string => process.argv[process.argv.indexOf(`--${name}`) + 1] as string
const say = (m: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify(m)}\n`) }

const keyPair = crypto.keyPair()
const dht = new HyperDHT({ bootstrap: parseBootstrap(arg('bootstrap').split(',')), host: '127.0.0.1', firewalled: false })
const node = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair }), store: new Corestore(RAM.reusable()), tier: 'super' })
await node.start()
const ledger = await node.createLog('ledger')
// the drill's slow function asks for more fuel than the default ceiling (an operator's setting)
const loader = new FunctionLoader({ host: node, timeoutMs: 10_000, ceilings: { ...DEFAULT_CEILINGS, fuel: FUEL } })
const ref = arg('ref')
const publisherKey = ref.split('/')[0] as string

// follow the publisher and wait until its registry (and the module) is here, bounded
const end = Date.now() + LOAD_MS
let loaded = false
let lastError = ''
await loader.follow(publisherKey)
while (!loaded && Date.now() < end) {
  try {
    await loader.load(ref)
    loaded = true
  } catch (err) {
    lastError = `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`
    await new Promise(resolve => setTimeout(resolve, 250))
  }
}
if (!loaded) {
  say({ type: 'error', message: `could not load ${ref} within ${LOAD_MS} ms: ${lastError}` })
  process.exit(2)
}

const pool = createNodeExecutor({ size: 1 })
const executor: Executor = {
  get size () { return pool.size },
  async execute (call: ExecuteCall, options?: ExecuteOptions): Promise<ExecuteResult> {
    say({ type: 'started', at: Date.now() })
    if (hold) await new Promise(() => {})
    return await pool.execute(call, options)
  },
  async close () { await pool.close() }
}
const service = new InvokeService({
  executor,
  functions: loader,
  keyPair,
  ledger: { key: b4a.from(ledger.key, 'hex'), append: async (blocks) => await node.append(ledger.key, blocks) },
  slots: 2
})
const endpoint = new InvokeEndpoint({ host: node, tier: 'super', service })
endpoint.start()
say({ type: 'ready', key: node.publicKey, ledgerKey: ledger.key })

process.on('SIGTERM', () => {
  endpoint.stop()
  void Promise.allSettled([loader.close(), pool.close(), node.stop()]).then(async () => { await dht.destroy() }).finally(() => process.exit(0))
})
