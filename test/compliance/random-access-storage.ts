/**
 * The random-access-storage compliance suite: what Hypercore 10 and Corestore 6, and so the
 * node, rely on from the storage under them, run against every storage shadw keeps cores on:
 * files on a super node (random-access-file, as Corestore opens them), the Origin Private File
 * System in the browser node worker (`OpfsStorage`), and memory (random-access-memory, under
 * the CLI's throwaway node and most tests).
 *
 * Every case runs against every implementation. Where one behaves differently, its
 * {@link StorageCapabilities} say how and why, and the case asserts that documented behaviour
 * exactly: a difference is a flag, never a skipped case.
 */
import b4a from 'b4a'
import { describe, expect, it, onTestFinished } from 'vitest'
import { patternBytes, type BatchOutcome, type Outcome, type StorageCommand, type StorageContext, type StorageOp } from './storage-wire.ts'

/** Runs the suite's commands against one implementation, in this process or in a browser. */
export interface StorageTarget {
  run (cmd: StorageCommand): Promise<unknown>
}

/** How an implementation may differ from random-access-file on the edges the suite probes. */
export interface StorageCapabilities {
  /** A file never written: stat, read and open fail with `ENOENT`, or it is an empty file. */
  missing: 'ENOENT' | 'empty'
  /** How a read that runs past the end fails. */
  readPastEnd: Outcome
  /** An empty read starting past the end: answered with no bytes, or failed like any read past the end. */
  emptyReadPastEnd: 'answered' | 'fails'
  /** An empty write past the end: changes nothing, or grows the file to its offset. */
  emptyWritePastEnd: 'ignored' | 'grows'
  /** What a `del` inside the file clears: exactly its bytes, or only the whole pages it covers. */
  delClears: 'bytes' | 'whole-pages'
  /** A finite `del` that reaches the end: truncates the file there, or zeroes and keeps the size. */
  delToEnd: 'truncates' | 'zeroes'
  /** A `del` wholly past the end: changes nothing, or grows the file to its offset. */
  delPastEnd: 'ignored' | 'grows'
  /** Calls issued together, without waiting, complete in the order they were issued. */
  completesInIssueOrder: boolean
  /** Open instances on one name see each other's writes. */
  instancesShareFile: boolean
  /** What was written outlives its context: a restarted node, or another one on the same store, reads it. */
  persistent: boolean
  /** A file held open refuses another context; on files, `primary-key`, the one Corestore locks. */
  exclusive: boolean
  /** Names are paths whose segments are directories. */
  directories: boolean
}

/** Random-access-memory's page: `del` frees whole pages only, and the suite writes across one. */
const MIB = 1024 * 1024

/** A file-system block (ext4's, and that of the files behind OPFS): writes across its edge must stay whole. */
const BLOCK = 4096

const TEN = '00112233445566778899'

const ok = (value: unknown = null): Outcome => ({ ok: true, value })
const fail = (code: string): Outcome => ({ ok: false, code })
const hex = (bytes: Uint8Array): string => b4a.toString(bytes, 'hex')

let roots = 0

/** One file as a test sees it: every call answers its {@link Outcome}. */
interface TestFile {
  read (offset: number, size: number): Promise<Outcome>
  write (offset: number, hexBytes: string): Promise<Outcome>
  call (call: StorageOp, host?: boolean): Promise<Outcome>
  stat (host?: boolean): Promise<Outcome>
  batch (calls: StorageOp[]): Promise<BatchOutcome>
}

/** Files under a root private to the calling test, ended when it finishes. */
function files (target: () => StorageTarget): (name: string, context?: StorageContext) => Promise<TestFile> {
  const root = `ras-${++roots}`
  onTestFinished(async () => { await target().run({ kind: 'end', root }) })
  return async (name, context) => {
    const sid = await target().run({ kind: 'open', root, name, ...(context === undefined ? {} : { context }) }) as number
    const call = async (c: StorageOp, host = false): Promise<Outcome> => await target().run({ kind: 'op', sid, call: c, ...(host ? { host } : {}) }) as Outcome
    return {
      call,
      read: async (offset, size) => await call({ op: 'read', offset, size }),
      write: async (offset, hexBytes) => await call({ op: 'write', offset, hex: hexBytes }),
      stat: async (host) => await call({ op: 'stat' }, host),
      batch: async (calls) => await target().run({ kind: 'batch', sid, calls }) as BatchOutcome
    }
  }
}

/**
 * Registers the suite for one implementation. `target()` is read when tests run, so it may
 * be set up in a `beforeAll`.
 *
 * @example
 * ```ts
 * const runner = new StorageRunner({ factory: () => RAM.reusable() })
 * describeRandomAccessStorage('random-access-memory', MEMORY, () => runner)
 * ```
 */
export function describeRandomAccessStorage (name: string, caps: StorageCapabilities, target: () => StorageTarget): void {
  /** What stat answers for a file that was never written. */
  const missingStat = caps.missing === 'ENOENT' ? fail('ENOENT') : ok({ size: 0 })
  /** What a read of `size` bytes at 0 answers for a file that holds nothing. */
  const emptyRead = (size: number): Outcome => caps.missing === 'ENOENT' ? fail('ENOENT') : size === 0 ? ok('') : caps.readPastEnd

  describe(`random-access-storage compliance: ${name}`, () => {
    describe('reads and writes', () => {
      it('reads back what was written at any offset and overwrites in place', async () => {
        const f = await files(target)('f')
        expect(await f.write(0, TEN)).toEqual(ok())
        expect([await f.read(0, 10), await f.read(3, 4), await f.read(9, 1)]).toEqual([ok(TEN), ok('33445566'), ok('99')])
        expect(await f.write(4, 'aabb')).toEqual(ok())
        expect(await f.read(0, 10)).toEqual(ok('00112233aabb66778899'))
        expect(await f.stat()).toEqual(ok({ size: 10 }))
      })

      it('fails a read that runs past the end, and answers an empty read', async () => {
        const f = await files(target)('f')
        expect(await f.write(0, TEN)).toEqual(ok())
        expect(await f.read(5, 10)).toEqual(caps.readPastEnd)
        expect(await f.read(10, 1)).toEqual(caps.readPastEnd)
        expect(await f.read(5, 5)).toEqual(ok('5566778899'))
        expect(await f.read(10, 0)).toEqual(ok(''))
        expect(await f.read(100, 0)).toEqual(caps.emptyReadPastEnd === 'answered' ? ok('') : caps.readPastEnd)
        expect(await f.stat()).toEqual(ok({ size: 10 }))
      })

      it('leaves a hole of zeros where a write lands past the end', async () => {
        const f = await files(target)('f')
        expect(await f.write(20, 'ff')).toEqual(ok())
        expect(await f.stat()).toEqual(ok({ size: 21 }))
        expect(await f.read(0, 21)).toEqual(ok('00'.repeat(20) + 'ff'))
        expect(await f.write(5, 'ee')).toEqual(ok())
        expect(await f.read(0, 21)).toEqual(ok('00'.repeat(5) + 'ee' + '00'.repeat(14) + 'ff'))
        expect(await f.write(100, '')).toEqual(ok())
        expect(await f.stat()).toEqual(ok({ size: caps.emptyWritePastEnd === 'grows' ? 100 : 21 }))
      })

      it('keeps writes whole across a block edge and a page edge', async () => {
        const f = await files(target)('f')
        const a = hex(patternBytes(1, 600))
        const b = hex(patternBytes(2, 600))
        expect(await f.write(BLOCK - 300, a)).toEqual(ok())
        expect(await f.write(MIB - 300, b)).toEqual(ok())
        expect(await f.read(BLOCK - 300, 600)).toEqual(ok(a))
        expect(await f.read(MIB - 300, 600)).toEqual(ok(b))
        expect(await f.call({ op: 'scan', offset: BLOCK + 300, size: MIB - BLOCK - 600 })).toEqual(ok([[0, MIB - BLOCK - 600]]))
        expect(await f.stat()).toEqual(ok({ size: MIB + 300 }))
      })
    })

    describe('truncate and del', () => {
      it('truncates to shrink, and grows with zeros, never with stale bytes', async () => {
        const f = await files(target)('f')
        await f.write(0, TEN)
        expect(await f.call({ op: 'truncate', offset: 4 })).toEqual(ok())
        expect([await f.stat(), await f.read(0, 4), await f.read(0, 5)]).toEqual([ok({ size: 4 }), ok('00112233'), caps.readPastEnd])
        expect(await f.call({ op: 'truncate', offset: 8 })).toEqual(ok())
        expect([await f.stat(), await f.read(0, 8)]).toEqual([ok({ size: 8 }), ok('0011223300000000')])
        expect(await f.call({ op: 'truncate', offset: 0 })).toEqual(ok())
        expect(await f.stat()).toEqual(ok({ size: 0 }))
      })

      it('clears a del inside the file and keeps its size', async () => {
        const f = await files(target)('f')
        await f.write(0, '11'.repeat(10))
        expect(await f.call({ op: 'del', offset: 2, size: 3 })).toEqual(ok())
        expect(await f.stat()).toEqual(ok({ size: 10 }))
        expect(await f.read(0, 10)).toEqual(ok(caps.delClears === 'bytes' ? '1111' + '000000' + '11'.repeat(5) : '11'.repeat(10)))
      })

      it('reads whole pages cleared by del as zeros', async () => {
        const f = await files(target)('f')
        expect(await f.call({ op: 'fill', offset: 0, size: 3 * MIB, byte: 0xab })).toEqual(ok())
        expect(await f.call({ op: 'del', offset: MIB, size: MIB })).toEqual(ok())
        expect(await f.stat()).toEqual(ok({ size: 3 * MIB }))
        expect(await f.call({ op: 'scan', offset: 0, size: 3 * MIB })).toEqual(ok([[0xab, MIB], [0, MIB], [0xab, MIB]]))
      })

      it('truncates on a del that reaches the end, unless the implementation zeroes there', async () => {
        const file = files(target)
        const exact = await file('exact')
        const beyond = await file('beyond')
        for (const [f, size] of [[exact, 4], [beyond, 100]] as const) {
          await f.write(0, TEN)
          expect(await f.call({ op: 'del', offset: 6, size })).toEqual(ok())
          if (caps.delToEnd === 'truncates') {
            expect([await f.stat(), await f.read(0, 6)]).toEqual([ok({ size: 6 }), ok('001122334455')])
          } else {
            expect([await f.stat(), await f.read(0, 10)]).toEqual([ok({ size: 10 }), ok('001122334455' + '00000000')])
          }
        }
      })

      it('truncates on a del of infinite size, as Hypercore clears to the end', async () => {
        const f = await files(target)('f')
        await f.write(0, TEN)
        expect(await f.call({ op: 'del', offset: 4, size: Infinity })).toEqual(ok())
        expect([await f.stat(), await f.read(0, 4)]).toEqual([ok({ size: 4 }), ok('00112233')])
      })

      it('leaves the file alone on a del where nothing is stored', async () => {
        const f = await files(target)('f')
        expect(await f.write(0, TEN)).toEqual(ok())
        expect(await f.call({ op: 'del', offset: 50, size: 5 })).toEqual(ok())
        expect(await f.stat()).toEqual(ok({ size: caps.delPastEnd === 'grows' ? 50 : 10 }))
        expect(await f.read(0, 10)).toEqual(ok(TEN))
      })
    })

    describe('lifecycle', () => {
      it('finds a file never written missing, until its first write creates it', async () => {
        const file = files(target)
        const f = await file('cores/ab/oplog')
        expect(await f.stat()).toEqual(missingStat)
        expect(await f.call({ op: 'open' })).toEqual(caps.missing === 'ENOENT' ? fail('ENOENT') : ok())
        expect(await f.write(3, 'ff')).toEqual(ok())
        expect(await f.read(0, 4)).toEqual(ok('000000ff'))
        expect(await (await file('cores/ab/oplog')).read(0, 4)).toEqual(ok('000000ff'))
        expect(await (await file('cores/ab/tree')).read(0, 0)).toEqual(emptyRead(0))
      })

      it('fails every call after close with Closed, and closes twice without error', async () => {
        const f = await files(target)('f')
        await f.write(0, 'ab')
        expect([await f.call({ op: 'close' }), await f.call({ op: 'close' })]).toEqual([ok(), ok()])
        const closed: Outcome = { ok: false, code: null, message: 'Closed' }
        expect([await f.read(0, 1), await f.write(0, 'cd'), await f.stat()]).toEqual([closed, closed, closed])
      })

      it('lets go of a file on suspend and reopens it on the next call', async () => {
        const f = await files(target)('f')
        await f.write(0, 'abcd')
        expect(await f.call({ op: 'suspend' })).toEqual(ok())
        expect(await f.read(0, 2)).toEqual(ok('abcd'))
        expect(await f.write(2, 'ef')).toEqual(ok())
        expect([await f.stat(), await f.read(0, 3)]).toEqual([ok({ size: 3 }), ok('abcdef')])
      })

      it('shows a later instance what a closed one wrote; open instances share writes where the file is shared', async () => {
        const file = files(target)
        const first = await file('f')
        await first.write(0, 'abcd')
        await first.call({ op: 'close' })
        expect(await (await file('f')).read(0, 2)).toEqual(ok('abcd'))

        const one = await file('shared')
        const two = await file('shared')
        expect(await one.write(0, 'aa')).toEqual(ok())
        expect(await two.read(0, 1)).toEqual(caps.instancesShareFile ? ok('aa') : caps.readPastEnd)
        expect(await two.write(0, 'bb')).toEqual(ok())
        expect(await one.read(0, 1)).toEqual(ok(caps.instancesShareFile ? 'bb' : 'aa'))
      })

      it('removes the file on unlink, and unlinks a missing file without error', async () => {
        const file = files(target)
        const f = await file('cores/ab/data')
        await f.write(0, 'abcd')
        expect(await f.call({ op: 'unlink' })).toEqual(ok())
        expect(await f.read(0, 1)).toEqual({ ok: false, code: null, message: 'Closed' })
        expect(await (await file('cores/ab/data')).stat()).toEqual(missingStat)
        expect(await (await file('never')).call({ op: 'unlink' })).toEqual(ok())
      })

      it('removes the directories an unlink emptied, so their name can hold a file', async () => {
        const file = files(target)
        const deep = await file('a/b/c')
        const kept = await file('x/y')
        const gone = await file('x/z')
        await Promise.all([deep.write(0, 'c0'), kept.write(0, 'd0'), gone.write(0, 'e0')])
        expect([await deep.call({ op: 'unlink' }), await gone.call({ op: 'unlink' })]).toEqual([ok(), ok()])
        const a = await file('a')
        expect(await a.write(0, '01')).toEqual(ok())
        expect(await a.read(0, 1)).toEqual(ok('01'))
        expect(await (await file('x/y')).read(0, 1)).toEqual(ok('d0'))
      })

      it('fails on a name that is a directory with STORAGE_CORRUPT, as the host reports it', async () => {
        const file = files(target)
        await (await file('d/f')).write(0, '01')
        expect(await (await file('d')).stat(true)).toEqual(caps.directories ? fail('STORAGE_CORRUPT') : missingStat)
      })
    })

    describe('restarts and other contexts', () => {
      it('keeps what was written and closed across a restart', async () => {
        const file = files(target)
        for (const name of ['oplog', 'cores/ab/cd/data']) {
          const f = await file(name)
          await f.write(0, TEN)
          await f.call({ op: 'close' })
          const again = await file(name, 'restart')
          if (caps.persistent) expect([await again.stat(), await again.read(0, 10)]).toEqual([ok({ size: 10 }), ok(TEN)])
          else expect(await again.stat()).toEqual(missingStat)
        }
      })

      it('refuses a file held open to another context with STORAGE_LOCKED, until suspended or closed', async () => {
        const file = files(target)
        // on files only Corestore's primary-key is locked, which is what keeps a second
        // super node off one storage directory; OPFS locks every file
        const held = await file('primary-key')
        await held.write(0, '0102')
        const refused = await file('primary-key', 'elsewhere')
        expect(await refused.stat(true)).toEqual(caps.exclusive ? fail('STORAGE_LOCKED') : caps.persistent ? ok({ size: 2 }) : missingStat)

        expect(await held.call({ op: 'suspend' })).toEqual(ok())
        const other = await file('primary-key', 'elsewhere')
        expect(await other.read(0, 2)).toEqual(caps.persistent ? ok('0102') : emptyRead(2))
        expect(await other.call({ op: 'close' })).toEqual(ok())
        expect(await held.read(0, 2)).toEqual(ok('0102'))
      })
    })

    describe('calls issued together', () => {
      it('runs calls issued before the open completes, and close waits for all of them', async () => {
        const file = files(target)
        const f = await file('f')
        const writes: StorageOp[] = Array.from({ length: 8 }, (_, i) => ({ op: 'fill', offset: i * 1000, size: 1000, byte: i + 1 }))
        const { outcomes, order } = await f.batch([...writes, { op: 'stat' }, { op: 'close' }])
        if (caps.completesInIssueOrder) {
          expect({ outcomes, order }).toEqual({ outcomes: [...writes.map(() => ok()), ok({ size: 8000 }), ok()], order: [...writes.keys(), 8, 9] })
        } else {
          expect(outcomes.filter((_, i) => i !== 8)).toEqual([...writes.map(() => ok()), ok()])
          expect(outcomes[8]?.ok).toBe(true)
          expect([order[order.length - 1], [...order].sort((a, b) => a - b)]).toEqual([9, [...writes.keys(), 8, 9]])
        }
        const again = await file('f')
        expect(await again.call({ op: 'scan', offset: 0, size: 8000 })).toEqual(ok(writes.map((_, i) => [i + 1, 1000])))
      })

      it('applies overlapping writes issued together in issue order, each one whole', async () => {
        const f = await files(target)('f')
        const first = 'aa'.repeat(64)
        const second = 'bb'.repeat(64)
        const { outcomes } = await f.batch([{ op: 'write', offset: 0, hex: first }, { op: 'write', offset: 32, hex: second }, { op: 'read', offset: 0, size: 96 }])
        const inOrder = 'aa'.repeat(32) + second
        const final = await f.read(0, 96)
        if (caps.completesInIssueOrder) {
          expect([...outcomes, final]).toEqual([ok(), ok(), ok(inOrder), ok(inOrder)])
        } else {
          // POSIX makes each pwrite to a regular file atomic: either may land last, neither torn
          expect(outcomes.slice(0, 2)).toEqual([ok(), ok()])
          expect([ok(inOrder), ok(first + 'bb'.repeat(32))]).toContainEqual(final)
        }
      })
    })
  })
}
