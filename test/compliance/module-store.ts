/**
 * The module store compliance suite: `StorageModuleStore`, the node's cache of verified
 * module bytes by SHA-256, over every storage it runs on (memory, files, OPFS in Chromium).
 *
 * What the store itself guarantees: a hash it never stored is a miss; bytes come back as they
 * were put; an entry that is torn (cut short anywhere) or whose length header was tampered
 * with is a miss, never a prefix or stale bytes; malformed hashes and sizes are refused with
 * their codes. It does not hash what it reads: bytes altered in place under an intact header
 * come back as stored, and the `FunctionLoader` re-verifies every hit against the manifest
 * (test/integration/core/registry/registry-replication.test.ts).
 */
import b4a from 'b4a'
import { describe, expect, it, onTestFinished } from 'vitest'
import { MAX_MODULE_BYTES } from '../../src/core/sandbox/index.ts'
import type { StorageTarget } from './random-access-storage.ts'
import { describeBytes, patternBytes, type BytesSpec, type Outcome, type StorageContext, type StorageOp } from './storage-wire.ts'

/** How a module store's storage may differ. */
export interface ModuleStoreCapabilities {
  /** Stored modules outlive the process: a restarted node finds them. */
  persistent: boolean
}

/** Bytes of an entry before the module: its length, u32 little-endian (module-store.ts). */
const HEADER_BYTES = 4

const ok = (value: unknown = null): Outcome => ({ ok: true, value })
const fail = (code: string): Outcome => ({ ok: false, code })
const text = (s: string): BytesSpec => ({ hex: b4a.toString(b4a.from(s), 'hex') })
const u32 = (n: number): string => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b4a.toString(b, 'hex')
}

/** A distinct well-formed hash per test: the store files bytes by name, it does not hash them. */
const hashOf = (n: number): string => n.toString(16).padStart(2, '0').repeat(32)

let roots = 0

interface TestStore {
  put (hash: string, bytes: BytesSpec): Promise<Outcome>
  get (hash: string, context?: StorageContext): Promise<Outcome>
  /** Runs `calls` on the stored entry of `hash` behind the store's back, then closes it. */
  damage (hash: string, ...calls: StorageOp[]): Promise<void>
}

function store (target: () => StorageTarget): TestStore {
  const root = `ms-${++roots}`
  onTestFinished(async () => { await target().run({ kind: 'end', root }) })
  return {
    put: async (hash, bytes) => await target().run({ kind: 'module-put', root, hash, bytes }) as Outcome,
    get: async (hash, context) => await target().run({ kind: 'module-get', root, hash, ...(context === undefined ? {} : { context }) }) as Outcome,
    damage: async (hash, ...calls) => {
      const sid = await target().run({ kind: 'open', root, name: `modules/${hash}` }) as number
      for (const call of [...calls, { op: 'close' } as const]) {
        expect(await target().run({ kind: 'op', sid, call })).toMatchObject({ ok: true })
      }
    }
  }
}

/** What a get of `bytes` answers, as the runner describes them. */
async function stored (bytes: BytesSpec): Promise<Outcome> {
  return ok(await describeBytes('hex' in bytes ? b4a.from(bytes.hex, 'hex') : patternBytes(bytes.pattern, bytes.size)))
}

/**
 * Registers the suite for the module store over one storage; `target()` is read when tests run.
 *
 * @example
 * ```ts
 * describeModuleStore('random-access-memory', { persistent: false }, () => runner)
 * ```
 */
export function describeModuleStore (name: string, caps: ModuleStoreCapabilities, target: () => StorageTarget): void {
  describe(`module store compliance: ${name}`, () => {
    it('returns what was put under a hash, and null for a hash never stored', async () => {
      const s = store(target)
      const hash = 'ab'.repeat(32)
      expect(await s.get(hash)).toEqual(ok(null))
      expect(await s.put(hash, text('module bytes'))).toEqual(ok())
      expect(await s.get(hash)).toEqual(ok(b4a.toString(b4a.from('module bytes'), 'hex')))

      const big: BytesSpec = { pattern: 7, size: 200_000 }
      expect(await s.put(hashOf(1), big)).toEqual(ok())
      expect(await s.get(hashOf(1))).toEqual(await stored(big))
      expect(await s.get(hashOf(2))).toEqual(ok(null))
    })

    it('never returns stale tail bytes after a shorter rewrite', async () => {
      const s = store(target)
      const hash = 'cd'.repeat(32)
      await s.put(hash, text('a much longer first entry'))
      expect(await s.put(hash, text('short'))).toEqual(ok())
      expect(await s.get(hash)).toEqual(ok(b4a.toString(b4a.from('short'), 'hex')))

      await s.put(hashOf(3), { pattern: 1, size: 5000 })
      await s.put(hashOf(3), { pattern: 2, size: 300 })
      expect(await s.get(hashOf(3))).toEqual(await stored({ pattern: 2, size: 300 }))
    })

    it('misses an entry torn anywhere, never answering a prefix', async () => {
      const s = store(target)
      const size = 1000
      for (const cut of [HEADER_BYTES + size - 1, HEADER_BYTES + size / 2, HEADER_BYTES, HEADER_BYTES - 2, 0]) {
        const hash = hashOf(cut % 256)
        await s.put(hash, { pattern: 3, size })
        await s.damage(hash, { op: 'truncate', offset: cut })
        expect([cut, await s.get(hash)]).toEqual([cut, ok(null)])
      }
    })

    it('misses an entry whose length header was tampered with', async () => {
      const s = store(target)
      const size = 1000
      for (const [i, header] of [0, size + 1, MAX_MODULE_BYTES + 1, 0xffffffff].entries()) {
        const hash = hashOf(i)
        await s.put(hash, { pattern: 4, size })
        await s.damage(hash, { op: 'write', offset: 0, hex: u32(header) })
        expect([header, await s.get(hash)]).toEqual([header, ok(null)])
      }
    })

    it('refuses malformed hashes with INVALID_ARGUMENT', async () => {
      const s = store(target)
      const malformed = ['../../etc/passwd', 'AB'.repeat(32), 'ab'.repeat(31) + 'a', 'ab'.repeat(32) + 'a', 'g'.repeat(64), '']
      for (const hash of malformed) {
        expect([hash, await s.get(hash)]).toEqual([hash, fail('INVALID_ARGUMENT')])
        expect([hash, await s.put(hash, text('x'))]).toEqual([hash, fail('INVALID_ARGUMENT')])
      }
    })

    it('refuses empty and oversized modules with MODULE_TOO_LARGE, and keeps one of exactly MAX_MODULE_BYTES', async () => {
      const s = store(target)
      expect(await s.put(hashOf(1), { hex: '' })).toEqual(fail('MODULE_TOO_LARGE'))
      expect(await s.put(hashOf(1), { pattern: 5, size: MAX_MODULE_BYTES + 1 })).toEqual(fail('MODULE_TOO_LARGE'))
      expect(await s.get(hashOf(1))).toEqual(ok(null))
      const largest: BytesSpec = { pattern: 6, size: MAX_MODULE_BYTES }
      expect(await s.put(hashOf(2), largest)).toEqual(ok())
      expect(await s.get(hashOf(2))).toEqual(await stored(largest))
    })

    it('serves puts and gets issued together', async () => {
      const s = store(target)
      const modules = [1, 2, 3, 4].map(i => ({ hash: hashOf(i), bytes: { pattern: i, size: 10_000 * i } }))
      expect(await Promise.all(modules.map(m => s.put(m.hash, m.bytes)))).toEqual(modules.map(() => ok()))
      expect(await Promise.all(modules.map(m => s.get(m.hash)))).toEqual(await Promise.all(modules.map(m => stored(m.bytes))))
    })

    it(caps.persistent ? 'keeps modules across a restart' : 'starts empty after a restart: memory dies with the process', async () => {
      const s = store(target)
      const bytes: BytesSpec = { pattern: 8, size: 3000 }
      await s.put(hashOf(9), bytes)
      expect(await s.get(hashOf(9), 'restart')).toEqual(caps.persistent ? await stored(bytes) : ok(null))
    })
  })
}
