/**
 * The executor's ledger write is pipelined (InvokeService over its LedgerWriter,
 * src/core/ledger/ledger-writer.ts): a result leaves once its receipt is signed, with the
 * index its ledger block is being written at. These tests hold the service to that index, to
 * refusing further work (and advertising no room) once a write failed, and to close(): what
 * a contributor's switch and a node's stop wait for, so that nothing signed is lost and the
 * next writer of the log counts from the right length.
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { describe, expect, it, onTestFinished } from 'vitest'
import { decodeReceipt } from '../../../../src/core/ledger/index.ts'
import { InvokeEndpoint, InvokeService, type RequestMessage, type ServiceResult } from '../../../../src/core/invoke/index.ts'
import { startExecutorService } from '../../../../src/super-node/executor-service.ts'
import { logWriteError } from '../../../../src/super-node/storage-error.ts'
import { ShadwNode } from '../../../../src/core/node/shadw-node.ts'
import { FunctionLoader } from '../../../../src/core/registry/index.ts'
import type { Executor } from '../../../../src/core/sandbox/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { callerNode, keyedNode, publisher, sharedExecutor, until } from '../../../helpers/invoke.ts'

/**
 * How long a write takes on a slow disk, ms: long enough that results come back while their
 * blocks are on the way, and that a pair of calls runs while one append is in flight.
 */
const SLOW_WRITE_MS = 100

/**
 * RAM storage that fails every write with ENOSPC once `full` is set (a disk filling up), and
 * delays every write by {@link SLOW_WRITE_MS} once `slow` is set (appends stay in flight).
 */
function fillableStorage (): { storage: (name: string) => unknown, fill (): void, slow (): void } {
  const ram = RAM.reusable()
  let full = false
  let slow = false
  return {
    fill: () => { full = true },
    slow: () => { slow = true },
    storage: (name: string) => {
      const file = ram(name) as unknown as { _write (req: { callback (err: Error | null): void }): void }
      const write = file._write.bind(file)
      file._write = (req) => {
        if (full) { req.callback(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' })); return }
        if (slow) { setTimeout(() => { write(req) }, SLOW_WRITE_MS); return }
        write(req)
      }
      return file
    }
  }
}

interface Setup {
  service: InvokeService
  /** a new service on the same ledger log and key pair: the next one after a contributor's switch */
  successor (): InvokeService
  ledger: { get (i: number): Promise<Uint8Array>, length (): number }
  fill (): void
  slow (): void
  request (): RequestMessage
}

async function setup (): Promise<Setup> {
  const net = await testnet()
  const pub = await publisher(net)
  const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
  const { node, keyPair } = await keyedNode(net, 'super')
  const loader = new FunctionLoader({ host: node })
  onTestFinished(async () => { await loader.close() })
  const disk = fillableStorage()
  const store = new Corestore(disk.storage as never)
  const core = store.get({ name: 'ledger' })
  await core.ready()
  onTestFinished(async () => { await store.close() })
  const executor = sharedExecutor(1)
  const create = (): InvokeService => new InvokeService({
    executor,
    functions: loader,
    keyPair,
    slots: 64,
    // typed as the super node's executor service types them (src/node/invoke/executor-service.ts)
    ledger: { key: core.key as Uint8Array, append: async (blocks) => (await core.append(blocks).catch((err: unknown) => { throw logWriteError('ledger', err) })).length }
  })
  let id = 0
  return {
    service: create(),
    successor: create,
    ledger: { get: async (i) => await core.get(i) as Uint8Array, length: () => core.length },
    fill: disk.fill,
    slow: disk.slow,
    request: () => ({ type: 'request', id: ++id, ref, input: b4a.from(`call ${id}`), nonce: crypto.randomBytes(32), deadline: Date.now() + 20_000, redundancy: 1, auth: null })
  }
}

/** Each result's block at its promised index is its receipt, byte for byte. */
async function expectWritten (ledger: Setup['ledger'], results: ServiceResult[]): Promise<void> {
  for (const r of results) expect(b4a.equals(await ledger.get(r.ledgerIndex), r.encodedReceipt)).toBe(true)
}

describe('pipelined ledger writes', () => {
  it('gives every result the index its receipt is written at, one by one and in bursts', async () => {
    const { service, ledger, request } = await setup()
    const signal = new AbortController().signal
    const results = []
    for (let i = 0; i < 3; i++) results.push(await service.handle(request(), 'caller', signal))
    results.push(...await Promise.all(Array.from({ length: 20 }, async () => await service.handle(request(), 'caller', signal))))
    results.push(await service.handle(request(), 'caller', signal))
    expect(results.map(r => r.ledgerIndex).sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i))
    for (const r of results) {
      // the block at the promised index is this receipt, byte for byte
      expect(b4a.equals(await ledger.get(r.ledgerIndex), r.encodedReceipt)).toBe(true)
      expect(decodeReceipt(r.encodedReceipt)).toEqual(r.receipt)
    }
  })

  it('refuses every call before running it once a ledger write failed, and keeps what was written', async () => {
    const { service, ledger, fill, request } = await setup()
    const signal = new AbortController().signal
    await service.handle(request(), 'caller', signal)
    const written = await service.handle(request(), 'caller', signal)
    expect(written.ledgerIndex).toBe(1)
    // a result is answered only once its receipt is in the ledger
    expect(ledger.length()).toBe(2)
    fill()
    // this call ran, but its receipt cannot be written: it is refused, never answered
    const refused = await service.handle(request(), 'caller', signal).then(() => ({}), (err: { code: string, message: string }) => err) as { code?: string, message?: string }
    // retryable on another executor, and naming the storage failure
    expect(refused.code).toBe('EXECUTOR_CLOSED')
    expect(refused.message).toMatch(/^EXECUTOR_CLOSED: this executor takes no calls: its ledger cannot be written \(STORAGE_FULL: no space left writing ledger\)$/)
    expect(service.ledgerError?.code).toBe('STORAGE_FULL')
    // advertised as no room at all, so routers stop choosing it
    expect([service.free, service.total]).toEqual([0, 0])
    const executions = service.executions
    await expect(service.handle(request(), 'caller', signal)).rejects.toMatchObject({ code: 'EXECUTOR_CLOSED' })
    expect(service.executions).toBe(executions)
    expect(ledger.length()).toBe(2)
    expect(b4a.equals(await ledger.get(1), written.encodedReceipt)).toBe(true)
  })

  it('close() refuses new calls, waits for the appends in flight, and the next service on the log counts on from there', async () => {
    const { service, successor, ledger, slow, request } = await setup()
    const signal = new AbortController().signal
    const first = await service.handle(request(), 'caller', signal)
    expect(first.ledgerIndex).toBe(0)
    slow()
    // on a slow disk too, a result returns only once its block is written
    const results = [first]
    results.push(...await Promise.all(Array.from({ length: 8 }, async () => await service.handle(request(), 'caller', signal))))
    for (let i = 0; i < 3; i++) results.push(await service.handle(request(), 'caller', signal))
    expect(results.map(r => r.ledgerIndex).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i))
    expect(ledger.length()).toBe(12)
    // calls in flight when close() begins are answered once their receipts are in
    const inflight = Promise.all(Array.from({ length: 4 }, async () => await service.handle(request(), 'caller', signal)))
    await new Promise(resolve => setTimeout(resolve, 0))
    const closing = service.close()
    await expect(service.handle(request(), 'caller', signal)).rejects.toMatchObject({ code: 'EXECUTOR_CLOSED', message: 'EXECUTOR_CLOSED: this executor is closing' })
    expect([service.free, service.total]).toEqual([0, 0])
    await closing
    results.push(...await inflight)
    expect(ledger.length()).toBe(16)
    expect(service.ledgerError).toBeNull()
    await service.close()

    // a contributor's switch: a new service on the same log, appending after every old receipt
    const next = successor()
    const later = [await next.handle(request(), 'caller', signal)]
    later.push(...await Promise.all(Array.from({ length: 4 }, async () => await next.handle(request(), 'caller', signal))))
    later.push(await next.handle(request(), 'caller', signal))
    expect(later.map(r => r.ledgerIndex).sort((a, b) => a - b)).toEqual(Array.from({ length: 6 }, (_, i) => 16 + i))
    await next.close()
    expect(next.ledgerError).toBeNull()
    expect(ledger.length()).toBe(22)
    await expectWritten(ledger, [...results, ...later])
  })

  it('the super node\'s executor service stop, then the node\'s, keeps every receipt it answered with', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const disk = fillableStorage()
    const keyPair = crypto.keyPair()
    const open = async (): Promise<{ node: ShadwNode, stop (): Promise<void> }> => {
      const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
      const node = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair }), store: new Corestore(disk.storage as never), tier: 'super' })
      let stopped: Promise<void> | null = null
      const stop = (): Promise<void> => { stopped ??= (async () => { await node.stop(); await dht.destroy() })(); return stopped }
      onTestFinished(stop)
      await node.start()
      return { node, stop }
    }
    const first = await open()
    // counts the executions finished: a call's receipt is queued for the ledger right after
    const pool = sharedExecutor(1)
    let finished = 0
    const executor: Executor = { size: pool.size, execute: async (c, o) => { const r = await pool.execute(c, o); finished++; return r }, close: async () => { await pool.close() } }
    const exec = await startExecutorService(first.node, keyPair, { domain: 'shadw.test', executor, pricing: false })
    const signal = new AbortController().signal
    let id = 0
    const request = (): RequestMessage => ({ type: 'request', id: ++id, ref, input: b4a.from(`call ${id}`), nonce: crypto.randomBytes(32), deadline: Date.now() + 20_000, redundancy: 1, auth: null })
    const call = async (): Promise<ServiceResult> => await exec.service.handle(request(), 'caller', signal)
    const results = [await call()]
    disk.slow()
    // the service has two slots (one worker): a pair whose append is then in flight, and a
    // pair whose receipts wait behind it for the next append
    results.push(...await Promise.all([call(), call()]))
    const queued = Promise.all([call(), call()])
    await until('both queued calls to finish running', () => finished === 5)
    expect(first.node.logInfo(exec.ledgerKey).length).toBeLessThan(5)
    // as SuperNode.stop does: the executor service, then the node
    await exec.stop()
    await first.stop()
    results.push(...await queued)
    expect(results.map(r => r.ledgerIndex).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4])

    const again = await open()
    const ledger = again.node.logInfo(exec.ledgerKey)
    expect(ledger.length).toBe(5)
    for (const r of results) expect(b4a.equals(await again.node.get(exec.ledgerKey, r.ledgerIndex, { wait: false }) as Uint8Array, r.encodedReceipt)).toBe(true)
  })

  it('advertises no room (free 0, total 0) once a ledger write failed, without waiting for another call', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const { node, keyPair } = await keyedNode(net, 'super')
    const loader = new FunctionLoader({ host: node })
    onTestFinished(async () => { await loader.close() })
    const log = await node.createLog('ledger')
    // a narrow double of our Ledger interface: the real log, until the disk fills
    let full = false
    const service = new InvokeService({
      executor: sharedExecutor(1),
      functions: loader,
      keyPair,
      slots: 4,
      ledger: {
        key: b4a.from(log.key, 'hex'),
        append: async (blocks) => {
          if (full) throw logWriteError('ledger', Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }))
          return await node.append(log.key, blocks)
        }
      }
    })
    const endpoint = new InvokeEndpoint({ host: node, tier: 'super', service })
    endpoint.start()
    onTestFinished(() => { endpoint.stop() })
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(1, { timeoutMs: 20_000 })
    const capacity = (): { free: number, total: number } | undefined => {
      const c = caller.endpoint.peers().find(p => p.key === node.publicKey)?.capacity
      return c === null || c === undefined ? undefined : { free: c.free, total: c.total }
    }
    expect(capacity()).toEqual({ free: 4, total: 4 })
    await caller.endpoint.invoke(ref, b4a.from('one'))
    full = true
    // its block cannot be written: the call is refused, not answered with a receipt the ledger lacks
    await expect(caller.endpoint.invoke(ref, b4a.from('two'), { deadline: 5_000 })).rejects.toBeDefined()
    await until('the executor to advertise no room', () => capacity()?.total === 0)
    expect(capacity()).toEqual({ free: 0, total: 0 })
    expect(service.ledgerError?.code).toBe('STORAGE_FULL')
    // the caller's router no longer counts it as an executor: nothing is sent
    const executions = service.executions
    await expect(caller.endpoint.invoke(ref, b4a.from('three'), { deadline: 2_000 })).rejects.toMatchObject({ code: 'NO_EXECUTORS' })
    expect(service.executions).toBe(executions)
  })
})
