/**
 * The receipt and ledger stages of one warm sequential call, each timed alone in one process
 * with its code optimised (many rounds before the timed ones), µs of CPU per call (median of
 * the rounds; all threads of the process, so Hypercore's and V8's helpers count): what a call that
 * is its own group commit pays on the executor (receipt body, batch signature, Hypercore
 * append to a RAM-backed ledger) and at the caller (opening the receipt: decode, Merkle path,
 * ed25519 verification). `npm run bench -- invocation-stages`. The whole-call figures of
 * bench/invocation.ts include the network, the sandbox and both event loops; these say how
 * much of them no batching can share with one call in flight.
 *
 * The executor's whole part of a warm call is timed the same way, in one process without the
 * network: `InvokeService.handle` of the bench's echo (loaded from a real registry, run in a
 * real pool with inline runs, its receipt signed and appended to a real ledger log), one call
 * at a time (each its own group commit) and {@link BURST} at once (a group commit of them).
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import b4a from 'b4a'
import Hypercore from 'hypercore'
import crypto from 'hypercore-crypto'
import RAM from 'random-access-memory'
import { openReceipt, prepareReceipt, signReceiptBatch, type ReceiptBody } from '../src/core/ledger/index.ts'
import { sha256 } from '../src/core/sha256.ts'
import createTestnet from 'hyperdht/testnet'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import Corestore from 'corestore'
import { ShadwNode } from '../src/core/node/shadw-node.ts'
import { InvokeService, type RequestMessage } from '../src/core/invoke/index.ts'
import { createNodeExecutor } from '../src/super-node/executor/index.ts'
import { createPublisherKeyPair, FunctionLoader, Registry } from '../src/core/registry/index.ts'
import { compileWat } from '../test/fixtures/wasm/fixtures.ts'

/** Calls before timing (V8 optimises the path), then timed rounds of {@link CALLS}. */
const WARM_CALLS = 5_000
const CALLS = 5_000
const ROUNDS = 5
/** Calls handed to the service at once in the burst stage: a turn's admission (SERVE_BURST). */
const BURST = 32

const ECHO = `(module (memory (export "memory") 1) (global $next (mut i32) (i32.const 1024))
  (func (export "alloc") (param $len i32) (result i32) (local $p i32) (local.set $p (global.get $next)) (global.set $next (i32.add (global.get $next) (local.get $len))) (local.get $p))
  (func (export "run") (param $ptr i32) (param $len i32) (result i64) (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len)))))`

function body (keyHex: string, i: number): ReceiptBody {
  return {
    fn: `${'a'.repeat(64)}/echo@1.0.0`,
    manifestSignature: 'b'.repeat(128),
    moduleHash: 'c'.repeat(64),
    inputHash: sha256(new Uint8Array(16).fill(i & 0xff)),
    outputHash: sha256(new Uint8Array(16).fill(7)),
    fuel: 12,
    executor: keyHex,
    tenant: 'd'.repeat(64),
    time: Date.now(),
    nonce: b4a.toString(crypto.randomBytes(32), 'hex'),
    deadline: Date.now() + 10_000,
    bytes: 32,
    price: { utilisationPpm: 0, fuelPrice: 0, bytePrice: 0 },
    total: 0
  }
}

async function time (label: string, fn: (i: number) => unknown | Promise<unknown>, per = 1): Promise<[string, number]> {
  for (let i = 0; i < WARM_CALLS / per; i++) await fn(i)
  const rounds: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    // CPU time, not wall time: on a shared machine the wall clock counts other processes' turns
    const t = process.cpuUsage()
    for (let i = 0; i < CALLS / per; i++) await fn(i)
    const u = process.cpuUsage(t)
    rounds.push((u.user + u.system) / CALLS)
  }
  rounds.sort((a, b) => a - b)
  return [label, Math.round((rounds[Math.floor(ROUNDS / 2)] as number) * 10) / 10]
}

export async function runInvocationStages (): Promise<Record<string, number>> {
  const keyPair = crypto.keyPair()
  const keyHex = b4a.toString(keyPair.publicKey, 'hex')
  const ledger = new Hypercore(RAM.reusable())
  await ledger.ready()
  const msg = new Uint8Array(200).fill(1)
  const sig = crypto.sign(msg, keyPair.secretKey)
  const bodies = Array.from({ length: 256 }, (_, i) => body(keyHex, i))
  const receipts = bodies.map(b => signReceiptBatch([prepareReceipt(b)], keyPair.secretKey)[0] as { bytes: Uint8Array })
  const out = Object.fromEntries([
    await time('ed25519 sign (hypercore-crypto: sodium-native)', () => crypto.sign(msg, keyPair.secretKey)),
    await time('ed25519 verify (hypercore-crypto: sodium-native)', () => crypto.verify(msg, sig, keyPair.publicKey)),
    await time('receipt body check + encode (prepareReceipt)', i => prepareReceipt(bodies[i & 255] as ReceiptBody)),
    await time('batch of one signed (signReceiptBatch)', i => signReceiptBatch([prepareReceipt(bodies[i & 255] as ReceiptBody)], keyPair.secretKey)),
    await time('Hypercore append of one block (RAM)', async i => await ledger.append((receipts[i & 255] as { bytes: Uint8Array }).bytes)),
    await time('receipt opened at the caller (openReceipt, root not known)', i => openReceipt((receipts[i & 255] as { bytes: Uint8Array }).bytes)),
    await time('SHA-256 of 16 bytes', i => sha256(new Uint8Array(16).fill(i & 0xff)))
  ])
  await ledger.close()
  return { ...out, ...await serviceStages() }
}

/** The executor's whole part of a warm call in one process: see the module comment. */
async function serviceStages (): Promise<Record<string, number>> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const keyPair = crypto.keyPair()
  const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1', firewalled: false })
  const store = new Corestore(RAM.reusable())
  const node = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair }), store, tier: 'super' })
  const executor = createNodeExecutor({ size: 1, inline: true, maxQueue: 256 })
  try {
    await node.start()
    const registry = await Registry.create(store, createPublisherKeyPair())
    await registry.publish(await compileWat(ECHO), { name: 'echo', version: '1.0.0' })
    const ref = `${registry.key}/echo@1.0.0`
    const log = await node.createLog('ledger')
    const service = new InvokeService({ executor, functions: new FunctionLoader({ host: node }), keyPair, slots: 256, ledger: { key: b4a.from(log.key, 'hex'), append: async (blocks) => await node.append(log.key, blocks) } })
    const input = new Uint8Array(16).fill(7)
    let id = 0
    const call = async (): Promise<unknown> => await service.handle({ type: 'request', id: ++id, ref, input, nonce: crypto.randomBytes(32), deadline: Date.now() + 10_000, redundancy: 1, auth: null } satisfies RequestMessage, 'd'.repeat(64), new AbortController())
    const out = Object.fromEntries([
      await time('executor: service.handle, one call at a time (inline run, receipt, ledger append)', call),
      await time(`executor: service.handle, ${BURST} at once (one group commit)`, async () => await Promise.all(Array.from({ length: BURST }, call)), BURST)
    ])
    await service.close()
    await registry.close()
    return out
  } finally {
    await executor.close()
    await node.stop()
    await dht.destroy()
    await net.destroy()
  }
}

/** Runs the stages; prints and writes bench/results/invocation-stages.json. */
export async function runInvocationStagesBench (): Promise<void> {
  const stages = await runInvocationStages()
  for (const [label, us] of Object.entries(stages)) console.log(`${label}: ${us} µs CPU`)
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(new URL('./results/invocation-stages.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), cpuUsPerCall: stages }, null, 2) + '\n')
}
