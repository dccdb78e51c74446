/**
 * The executor's ledger writer (src/core/ledger/ledger-writer.ts) on a real Hypercore in
 * memory: receipts in the order they were recorded, signed and appended in groups, each answered
 * with its block index only once its append completed (durable before acknowledged); every receipt refused once an append failed;
 * close() waiting for the appends in flight. The log is wrapped only to hold or fail appends.
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import RAM from 'random-access-memory'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { decodeReceipt, LedgerWriter, openReceipt, prepareReceipt, VerifiedRoots, type Ledger, type RecordedReceipt } from '../../../../src/core/ledger/index.ts'
import { MAX_RECEIPT_BATCH } from '../../../../src/core/ledger/receipt.ts'
import { testReceiptBody } from '../../../helpers/receipts.ts'

const kp = crypto.keyPair()
const executor = b4a.toString(kp.publicKey, 'hex')

/** A pending receipt told apart by its nonce. */
function pending (i: number): ReturnType<typeof prepareReceipt> {
  return prepareReceipt(testReceiptBody({ executor, nonce: i.toString(16).padStart(64, '0') }))
}

interface Log {
  ledger: Ledger
  /** blocks in the log now */
  length (): number
  get (i: number): Promise<Uint8Array>
  /** the size of every append asked for, in order */
  appends: number[]
  /** appends from now on wait until the returned function is called */
  hold (): () => void
  /** lets every held append go on (teardown: a failed test must not leave one waiting) */
  releaseAll (): void
  /** appends from now on reject with `err` */
  fail (err: unknown): void
  /** appends from now on resolve to `length` without writing (another writer got there first) */
  lie (length: number): void
  /** blocks written behind the writer's back */
  appendDirectly (blocks: Uint8Array[]): Promise<void>
}

async function memoryLog (): Promise<Log> {
  const store = new Corestore(RAM.reusable())
  onTestFinished(async () => { await store.close() })
  const core = store.get({ name: 'ledger' })
  await core.ready()
  const appends: number[] = []
  let gate: Promise<void> | null = null
  const releases = new Set<() => void>()
  let failure: unknown = null
  let claimed: number | null = null
  return {
    ledger: {
      key: core.key as Uint8Array,
      append: async (blocks) => {
        appends.push(blocks.length)
        if (gate !== null) await gate
        if (failure !== null) throw failure
        if (claimed !== null) return claimed
        return (await core.append(blocks)).length
      }
    },
    length: () => core.length,
    get: async (i) => await core.get(i) as Uint8Array,
    appends,
    hold: () => {
      let release = (): void => {}
      gate = new Promise<void>(resolve => { release = () => { gate = null; releases.delete(release); resolve() } })
      releases.add(release)
      return release
    },
    releaseAll: () => { for (const release of [...releases]) release() },
    fail: (err) => { failure = err },
    lie: (length) => { claimed = length },
    appendDirectly: async (blocks) => { await core.append(blocks) }
  }
}

function writer (log: Log, over: Partial<ConstructorParameters<typeof LedgerWriter>[0]> = {}): LedgerWriter {
  const w = new LedgerWriter({ ledger: log.ledger, secretKey: kp.secretKey, ...over })
  onTestFinished(async () => { log.releaseAll(); await w.close() })
  return w
}

async function rejection (p: Promise<unknown>): Promise<unknown> {
  return await p.then(() => { throw new Error('expected a rejection') }, (err: unknown) => err)
}

/** Waits (bounded) until `cond` holds. */
async function until (what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise(resolve => setTimeout(resolve, 10))
  if (!cond()) throw new Error(`timed out waiting for ${what}`)
}

/** Each receipt is the block at its index, byte for byte, and verifies. */
async function expectWritten (log: Log, recorded: RecordedReceipt[]): Promise<void> {
  for (const r of recorded) {
    expect(b4a.equals(await log.get(r.index), r.bytes)).toBe(true)
    expect(decodeReceipt(r.bytes)).toEqual(r.receipt)
    expect(openReceipt(r.bytes)).toEqual(r.receipt)
  }
}

describe('ledger writer', () => {
  it('gives receipts indexes in the order they were recorded, one by one and in bursts, counting on from what the log held', async () => {
    const log = await memoryLog()
    await log.appendDirectly([b4a.from('an older block'), b4a.from('another')])
    const w = writer(log)
    const recorded: RecordedReceipt[] = []
    let n = 0
    for (let i = 0; i < 3; i++) recorded.push(await w.record(pending(n++)))
    recorded.push(...await Promise.all(Array.from({ length: 20 }, async () => await w.record(pending(n++)))))
    recorded.push(await w.record(pending(n++)))
    expect(recorded.map(r => r.index)).toEqual(Array.from({ length: 24 }, (_, i) => 2 + i))
    expect(recorded.map(r => r.receipt.nonce)).toEqual(Array.from({ length: 24 }, (_, i) => i.toString(16).padStart(64, '0')))
    await w.close()
    expect(log.length()).toBe(26)
    await expectWritten(log, recorded)
  })

  it('signs and appends a burst together, at most MAX_RECEIPT_BATCH receipts at a time', async () => {
    const log = await memoryLog()
    const roots = new VerifiedRoots()
    const w = writer(log, { verifiedRoots: roots })
    const first = await w.record(pending(0))
    expect(first.receipt.batch).toEqual({ size: 1, index: 0, path: [] })
    const burst = await Promise.all(Array.from({ length: MAX_RECEIPT_BATCH + 44 }, async (_, i) => await w.record(pending(1 + i))))
    await w.close()
    expect(log.appends).toEqual([1, MAX_RECEIPT_BATCH, 44])
    expect(burst.map(r => r.receipt.batch?.size)).toEqual([...Array(MAX_RECEIPT_BATCH).fill(MAX_RECEIPT_BATCH), ...Array(44).fill(44)])
    // one signature per batch
    expect(new Set(burst.map(r => r.receipt.signature)).size).toBe(2)
    // its own batch roots are known verified: the first receipt of each opens with hashes only
    const one = burst[0] as RecordedReceipt
    expect(openReceipt(one.bytes, roots)).toEqual(one.receipt)
    await expectWritten(log, [first, ...burst])
  })

  it('answers each receipt only once its append completed, the first as every later one', async () => {
    const log = await memoryLog()
    const w = writer(log)
    const release = log.hold()
    let firstDone = false
    const first = w.record(pending(0)).finally(() => { firstDone = true })
    await until('the first append to be asked for', () => log.appends.length === 1)
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(firstDone).toBe(false)
    release()
    expect((await first).index).toBe(0)

    const releaseLater = log.hold()
    let answered = 0
    const later = Promise.all([w.record(pending(1)), w.record(pending(2)), w.record(pending(3))].map(async p => { const r = await p; answered++; return r }))
    await until('their append to be asked for', () => log.appends.length === 2)
    expect(log.appends).toEqual([1, 3])
    await new Promise(resolve => setTimeout(resolve, 20))
    // held append: nothing answered, nothing a tenant could hold that the log lacks
    expect(answered).toBe(0)
    expect(log.length()).toBe(1)
    releaseLater()
    const done = await later
    expect(done.map(r => r.index)).toEqual([1, 2, 3])
    // each answer came with its block already in the log
    expect(log.length()).toBe(4)
    await expectWritten(log, [await first, ...done])
  })

  it('refuses every receipt once an append failed, naming the failure, and signs nothing more', async () => {
    const log = await memoryLog()
    const failures: ShadwError[] = []
    const roots = new VerifiedRoots()
    const w = writer(log, { verifiedRoots: roots, onfail: (f) => { failures.push(f) } })
    const written = await w.record(pending(0))
    const full = ShadwError.STORAGE_FULL('ledger')
    log.fail(full)
    // its block cannot be written: it is refused, never answered with an index
    expect(await rejection(w.record(pending(1)))).toBe(full)
    expect(w.failure).toBe(full)
    expect(failures).toEqual([full])
    const appends = log.appends.length
    const refused = await Promise.all([rejection(w.record(pending(2))), rejection(w.record(pending(3)))])
    for (const err of refused) expect(err).toBe(full)
    await w.close()
    expect(log.appends.length).toBe(appends)
    expect(failures).toHaveLength(1)
    expect(log.length()).toBe(1)
    await expectWritten(log, [written])
  })

  it('refuses the receipts of a failed first append and types an untyped failure as STORAGE_UNAVAILABLE', async () => {
    const log = await memoryLog()
    log.fail(new Error('EIO: i/o error'))
    const w = writer(log)
    const refused = await Promise.all([rejection(w.record(pending(0))), rejection(w.record(pending(1)))])
    expect(refused[0]).toBe(w.failure)
    expect(refused[1]).toBe(w.failure)
    expect(w.failure?.code).toBe('STORAGE_UNAVAILABLE')
    expect(w.failure?.message).toBe('STORAGE_UNAVAILABLE: the ledger cannot be written: EIO: i/o error')
    expect(log.length()).toBe(0)
  })

  it('stops with INTERNAL when the log grew behind its back', async () => {
    const log = await memoryLog()
    const w = writer(log)
    await w.record(pending(0))
    // another writer appended meanwhile: the log is longer than this writer counted
    log.lie(5)
    expect(await rejection(w.record(pending(1)))).toBe(w.failure)
    expect(w.failure?.code).toBe('INTERNAL')
    expect(w.failure?.message).toBe('INTERNAL: the ledger is 5 blocks long, 2 expected: something else appends to it')
    expect(await rejection(w.record(pending(2)))).toBe(w.failure)
  })

  it('close() waits for the appends in flight, then refuses receipts; a successor counts on from there', async () => {
    const log = await memoryLog()
    const w = writer(log)
    const recorded = [await w.record(pending(0))]
    const release = log.hold()
    // recorded while the append carrying them is held: answered once it completes
    const inflight = Promise.all(Array.from({ length: 9 }, async (_, i) => await w.record(pending(1 + i))))
    await until('their append to be asked for', () => log.appends.length === 2)
    let closed = false
    const closing = w.close().then(() => { closed = true })
    const refused = await rejection(w.record(pending(10)))
    expect(refused).toBeInstanceOf(ShadwError)
    expect((refused as ShadwError).code).toBe('EXECUTOR_CLOSED')
    await new Promise(resolve => setTimeout(resolve, 20))
    expect(closed).toBe(false)
    expect(log.length()).toBe(1)
    release()
    await closing
    recorded.push(...await inflight)
    expect(recorded.map(r => r.index)).toEqual(Array.from({ length: 10 }, (_, i) => i))
    expect(log.length()).toBe(10)
    await w.close()
    expect(w.failure).toBeNull()

    const next = writer(log)
    const later = await Promise.all([next.record(pending(11)), next.record(pending(12))])
    expect(later.map(r => r.index)).toEqual([10, 11])
    await next.close()
    expect(log.length()).toBe(12)
    await expectWritten(log, [...recorded, ...later])
  })
})
