/**
 * What pricing adds to an execution on the executor: the same `InvokeService.handle` path
 * (nonce check, function lookup, access gate, receipt signature, ledger append) with and
 * without `pricing` (the quote and the worst-case check at admission; the price
 * and total travel in the receipt, signed with it), on an
 * instant stand-in executor and in-memory Hypercore logs, so the figure is the bookkeeping
 * alone. Runs interleaved rounds and prints the ratio priced / unpriced measured in this run.
 * `node --import tsx bench/pricing.ts`
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import RAM from 'random-access-memory'
import { InvokeService } from '../src/core/invoke/index.ts'
import type { Ledger } from '../src/core/ledger/index.ts'
import { DEFAULT_PRICING } from '../src/core/pricing/index.ts'
import type { LoadedFunction } from '../src/core/registry/function-loader.ts'
import { DEFAULT_LIMITS, type Executor } from '../src/core/sandbox/index.ts'

/** Calls per round and rounds per variant: enough for the median to settle on a noisy 2-core box. */
const CALLS = 2_000
const ROUNDS = 5

const publisher = 'ab'.repeat(32)
const fn = {
  manifest: { name: 'echo', version: '1.0.0', moduleHash: '01'.repeat(32), size: 8, abi: 'raw', limits: { ...DEFAULT_LIMITS }, access: [], price: { base: 0, curve: [0, 0, 0, 0] }, publisher, createdAt: 0, blob: { key: publisher, start: 0, length: 1 } },
  signature: 'cd'.repeat(64),
  module: new Uint8Array(8),
  source: 'cache'
} as unknown as LoadedFunction
const executor: Executor = { size: 64, execute: async (call) => ({ output: call.input ?? new Uint8Array(0), fuelUsed: 12_345, exitCode: 0, stderr: new Uint8Array(0), moduleHash: '01'.repeat(32), durationMs: 0 }), close: async () => {} }

async function log (store: Corestore, name: string): Promise<Ledger> {
  const core = store.get({ name })
  await core.ready()
  return { key: core.key as Uint8Array, append: async (blocks) => (await core.append(blocks)).length }
}

async function round (service: InvokeService): Promise<number> {
  const started = performance.now()
  const input = b4a.from('bench')
  await Promise.all(Array.from({ length: CALLS }, async () => {
    await service.handle({ type: 'request', id: 1, ref: `${publisher}/echo@1.0.0`, input, nonce: crypto.randomBytes(32), deadline: Date.now() + 60_000, redundancy: 1, auth: null }, 'ee'.repeat(32), new AbortController().signal)
  }))
  return (performance.now() - started) / CALLS
}

const store = new Corestore(RAM.reusable())
const keyPair = crypto.keyPair()
const base = { executor, functions: { load: async () => fn }, keyPair, slots: CALLS }
const plain = new InvokeService({ ...base, ledger: await log(store, 'ledger-a') })
const priced = new InvokeService({ ...base, ledger: await log(store, 'ledger-b'), pricing: DEFAULT_PRICING })
await round(plain)
await round(priced)
const a: number[] = []
const b: number[] = []
for (let i = 0; i < ROUNDS; i++) { a.push(await round(plain)); b.push(await round(priced)) }
const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number
const ma = median(a)
const mb = median(b)
process.stdout.write(`executor bookkeeping per call (${CALLS} concurrent calls, median of ${ROUNDS} rounds, instant executor)\n`)
process.stdout.write(`  unpriced: ${(ma * 1000).toFixed(1)} µs   priced: ${(mb * 1000).toFixed(1)} µs   priced / unpriced: ${(mb / ma).toFixed(2)}×\n`)
await store.close()
