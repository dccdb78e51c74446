/**
 * The executor's ledger write is pipelined (src/invoke/invoke-service.ts): a result leaves
 * once its receipt is signed, with the index its ledger block is being written at. These
 * tests hold it to that index, and to refusing further work once a write failed.
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import RAM from 'random-access-memory'
import { describe, expect, it, onTestFinished } from 'vitest'
import { decodeReceipt, InvokeService, type RequestMessage } from '../../../src/invoke/index.ts'
import { FunctionLoader } from '../../../src/registry/index.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../helpers/testnet.ts'
import { keyedNode, publisher, sharedExecutor } from './helpers.ts'

/** RAM storage that fails every write with ENOSPC once `full` is set: a disk filling up. */
function fillableStorage (): { storage: (name: string) => unknown, fill (): void } {
  const ram = RAM.reusable()
  let full = false
  return {
    fill: () => { full = true },
    storage: (name: string) => {
      const file = ram(name) as unknown as { _write (req: { callback (err: Error | null): void }): void }
      const write = file._write.bind(file)
      file._write = (req) => {
        if (!full) { write(req); return }
        req.callback(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }))
      }
      return file
    }
  }
}

async function setup (): Promise<{ service: InvokeService, ledger: { get (i: number): Promise<Uint8Array>, length (): number }, fill (): void, request (): RequestMessage }> {
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
  const service = new InvokeService({
    executor: sharedExecutor(1),
    functions: loader,
    keyPair,
    slots: 64,
    ledger: { key: core.key as Uint8Array, append: async (blocks) => (await core.append(blocks)).length }
  })
  let id = 0
  return {
    service,
    ledger: { get: async (i) => await core.get(i) as Uint8Array, length: () => core.length },
    fill: disk.fill,
    request: () => ({ type: 'request', id: ++id, ref, input: b4a.from(`call ${id}`), nonce: crypto.randomBytes(32), deadline: Date.now() + 20_000, redundancy: 1, auth: null })
  }
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
    // its block may still be on its way to storage: the disk fills once it is there
    for (let i = 0; i < 100 && ledger.length() < 2; i++) await new Promise(resolve => setTimeout(resolve, 10))
    expect(ledger.length()).toBe(2)
    fill()
    // this result is signed and returned; its block cannot be written
    const lost = await service.handle(request(), 'caller', signal)
    expect(lost.ledgerIndex).toBe(2)
    let refused: { code?: string, message?: string } = {}
    for (let i = 0; i < 50 && refused.code === undefined; i++) {
      await new Promise(resolve => setTimeout(resolve, 20))
      refused = await service.handle(request(), 'caller', signal).then(() => ({}), (err: { code: string, message: string }) => err)
    }
    expect(refused.code).toBe('INTERNAL')
    expect(refused.message).toMatch(/ENOSPC/)
    const executions = service.executions
    await expect(service.handle(request(), 'caller', signal)).rejects.toMatchObject({ code: 'INTERNAL' })
    expect(service.executions).toBe(executions)
    expect(ledger.length()).toBe(2)
    expect(b4a.equals(await ledger.get(1), written.encodedReceipt)).toBe(true)
  })
})
