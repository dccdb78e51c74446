import Hypercore from 'hypercore'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../src/core/errors.ts'
import { OpfsStorage, opfsStorage, pathSegments, type OpfsDirectoryHandle } from '../../../src/browser/opfs-storage.ts'
import { StorageProtocolError, coreOpenError, logWriteError, storageError } from '../../../src/browser/storage-errors.ts'
import { FakeOpfs } from '../../helpers/fake-opfs.ts'
import { describeRandomAccessStorage } from '../../compliance/random-access-storage.ts'
import { OPFS } from '../../compliance/storage-capabilities.ts'
import { StorageRunner } from '../../compliance/storage-wire.ts'

// The adapter's logic in Node, over an in-memory OPFS with Chromium's rules; the real thing
// is exercised in headless Chromium by test/browser/opfs-storage.test.ts.

function cb<T> (fn: (done: (err: Error | null, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => fn((err, value) => { err === null ? resolve(value) : reject(err) }))
}

function failure (fn: (done: (err: Error | null) => void) => void): Promise<Error & { code?: string, details?: unknown }> {
  return new Promise((resolve, reject) => fn(err => { err === null ? reject(new Error('expected a failure')) : resolve(err) }))
}

const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b)

describe('storageError', () => {
  const path = 'shadw/cores/oplog'

  it('maps each File System DOMException to its typed error', () => {
    const cases: Array<[string, 'open' | 'write' | 'read', string]> = [
      ['QuotaExceededError', 'write', 'STORAGE_FULL'],
      ['NoModificationAllowedError', 'open', 'STORAGE_LOCKED'],
      ['InvalidStateError', 'open', 'STORAGE_LOCKED'],
      ['InvalidStateError', 'read', 'INTERNAL'],
      ['NotFoundError', 'open', 'ENOENT'],
      ['TypeMismatchError', 'open', 'STORAGE_CORRUPT'],
      ['SecurityError', 'open', 'STORAGE_UNAVAILABLE'],
      ['NotAllowedError', 'open', 'STORAGE_UNAVAILABLE'],
      ['AbortError', 'write', 'INTERNAL']
    ]
    expect(cases.map(([name, op]) => storageError(new DOMException('x', name), path, op).code)).toEqual(cases.map(c => c[2]))
  })

  it('keeps the path and the DOMException as cause of STORAGE_FULL', () => {
    const dom = new DOMException('No capacity available', 'QuotaExceededError')
    const err = storageError(dom, path, 'write')
    expect(err).toBeInstanceOf(ShadwError)
    expect(err.message).toBe('STORAGE_FULL: no space left writing shadw/cores/oplog')
    expect((err as ShadwError).details).toEqual({ path })
    expect(err.cause).toBe(dom)
  })

  it('passes typed errors through and turns anything else into INTERNAL', () => {
    const typed = ShadwError.STORAGE_LOCKED(path)
    expect(storageError(typed, path, 'open')).toBe(typed)
    expect(storageError(new TypeError('boom'), path, 'read').code).toBe('INTERNAL')
    expect(storageError('boom', path, 'read').code).toBe('INTERNAL')
    expect(storageError(new DOMException('x', 'NotFoundError'), path, 'open')).toBeInstanceOf(StorageProtocolError)
  })
})

describe('coreOpenError', () => {
  it('treats Hypercore corruption codes and undecodable bytes as STORAGE_CORRUPT', () => {
    const coded = (code: string): Error => Object.assign(new Error(code), { code })
    expect(['OPLOG_CORRUPT', 'INVALID_OPLOG_VERSION', 'STORAGE_EMPTY', 'EPARTIALREAD'].map(c => coreOpenError(coded(c), 'root').code))
      .toEqual(['STORAGE_CORRUPT', 'STORAGE_CORRUPT', 'STORAGE_CORRUPT', 'STORAGE_CORRUPT'])
    expect(coreOpenError(new RangeError('uint must be between 0 and 9007199254740991'), 'root').code).toBe('STORAGE_CORRUPT')
    expect(coreOpenError(coded('SESSION_CLOSED'), 'root').code).toBe('INTERNAL')
  })
})

describe('logWriteError', () => {
  it('reads the typed code back from the WRITE_FAILED a full quota gives a Hypercore append', async () => {
    const fs = new FakeOpfs()
    const core = new Hypercore(opfsStorage('core', { getDirectory: fs.getDirectory }))
    await core.append([bytes(1)])
    fs.quota = fs.used()
    const raw = await core.append([new Uint8Array(4096)]).then(() => null, (err: unknown) => err)
    expect((raw as { code?: unknown }).code).toBe('WRITE_FAILED')
    const err = logWriteError('ledger ab', raw) as ShadwError
    expect([err.code, err.message, err.details, err.cause]).toEqual(['STORAGE_FULL', 'STORAGE_FULL: no space left writing ledger ab', { path: 'ledger ab' }, raw])
    await core.close()
  })

  it('maps each typed code a failed write can carry, any other failed write to STORAGE_UNAVAILABLE, and leaves other errors as they are', () => {
    const failed = (message: string): Error => Object.assign(new Error(`WRITE_FAILED: ${message}`), { code: 'WRITE_FAILED' })
    const codes = ['STORAGE_FULL', 'STORAGE_LOCKED', 'STORAGE_CORRUPT', 'STORAGE_UNAVAILABLE', 'INTERNAL']
    expect(codes.map(c => (logWriteError('ledger ab', failed(`${c}: x`)) as ShadwError).code)).toEqual(['STORAGE_FULL', 'STORAGE_LOCKED', 'STORAGE_CORRUPT', 'STORAGE_UNAVAILABLE', 'STORAGE_UNAVAILABLE'])
    const typed = ShadwError.NODE_CLOSED()
    const closed = Object.assign(new Error('SESSION_CLOSED: closed'), { code: 'SESSION_CLOSED' })
    expect(logWriteError('ledger ab', typed)).toBe(typed)
    expect(logWriteError('ledger ab', closed)).toBe(closed)
  })
})

describe('OpfsStorage over a fake OPFS', () => {
  it('refuses . and .. segments and empty names', () => {
    expect(pathSegments('/a//b/')).toEqual(['a', 'b'])
    expect(() => new OpfsStorage('root', '../x')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => new OpfsStorage('root', '/')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => opfsStorage('')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => new OpfsStorage('root', 'f', { lockRetries: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })

  it('reports STORAGE_UNAVAILABLE where there is no navigator.storage (Node)', async () => {
    const err = await failure(done => opfsStorage('root')('f').stat(done))
    expect(err.code).toBe('STORAGE_UNAVAILABLE')
  })

  it('rolls a failed write back to the size it had, so no half-written tail stays', async () => {
    const fs = new FakeOpfs()
    const file = new OpfsStorage('root', 'f', { getDirectory: fs.getDirectory })
    await cb(done => file.write(0, bytes(1, 2, 3), done))
    fs.shortWriteOnce = 2 // Chromium could store part of a write, then run out of quota
    const err = await failure(done => file.write(3, bytes(4, 5, 6, 7), done))
    expect([err.code, err.details]).toEqual(['STORAGE_FULL', { path: 'root/f' }])
    expect(await cb(done => file.stat(done))).toEqual({ size: 3 })
    expect(await cb(done => file.read(0, 3, done))).toEqual(bytes(1, 2, 3))
  })

  it('shares one handle between instances on the same file and closes it after the last', async () => {
    const fs = new FakeOpfs()
    const storage = opfsStorage('root', { getDirectory: fs.getDirectory })
    const a = storage('dir/f')
    const b = storage('dir/f')
    await cb(done => a.write(0, bytes(7), done))
    expect(await cb(done => b.read(0, 1, done))).toEqual(bytes(7))
    expect(fs.openHandles).toBe(1)
    await cb(done => a.close(done))
    expect(await cb(done => b.stat(done))).toEqual({ size: 1 })
    await cb(done => b.close(done))
    expect([fs.openHandles, fs.flushes]).toEqual([0, 1])
  })

  it('retries a file held by another context with backoff, then gives up with STORAGE_LOCKED', async () => {
    const fs = new FakeOpfs()
    // a second root getter stands for another worker: it has its own table of open handles
    const elsewhere = async (): Promise<OpfsDirectoryHandle> => await fs.getDirectory()
    const holder = new OpfsStorage('root', 'f', { getDirectory: fs.getDirectory })
    await cb(done => holder.write(0, bytes(1), done))

    const retries: number[] = []
    const blocked = new OpfsStorage('root', 'f', { getDirectory: elsewhere, lockRetries: 3, lockRetryDelayMs: 1, onLockRetry: (_p, n) => retries.push(n) })
    const err = await failure(done => blocked.stat(done))
    expect([err.code, err.details, retries]).toEqual(['STORAGE_LOCKED', { path: 'root/f' }, [1, 2, 3]])

    const patient = new OpfsStorage('root', 'f', {
      getDirectory: elsewhere,
      lockRetries: 3,
      lockRetryDelayMs: 1,
      onLockRetry: () => { holder.close() }
    })
    expect(await cb(done => patient.read(0, 1, done))).toEqual(bytes(1))
  })

  it('fsyncs after every write only with durableWrites', async () => {
    const fs = new FakeOpfs()
    const file = new OpfsStorage('root', 'f', { getDirectory: fs.getDirectory, durableWrites: true })
    await cb(done => file.write(0, bytes(1), done))
    await cb(done => file.truncate(0, done))
    expect(fs.flushes).toBe(2)
  })

  it('carries a Hypercore through close and reopen', async () => {
    const fs = new FakeOpfs()
    const storage = (): ReturnType<typeof opfsStorage> => opfsStorage('core', { getDirectory: fs.getDirectory })
    const core = new Hypercore(storage())
    await core.append([bytes(1), bytes(2), bytes(3)])
    const key = core.key
    await core.close()
    expect(fs.openHandles).toBe(0)

    const again = new Hypercore(storage(), null, { createIfMissing: false })
    await again.ready()
    expect([again.length, await again.get(2)]).toEqual([3, bytes(3)])
    expect(again.key).toEqual(key)
    await again.close()
  })
})

// The fake the cases above run on keeps the contract Chromium's OPFS keeps: the same suite,
// the same capabilities as in test/browser/browser/opfs-storage.test.ts
const fake = new FakeOpfs()
const fakeRunner = new StorageRunner({
  factory: (root, context) => opfsStorage(root, context === 'here'
    ? { getDirectory: fake.getDirectory }
    // a root getter of its own is a table of open handles of its own, as in another worker
    : { getDirectory: async () => await fake.getDirectory(), ...(context === 'elsewhere' ? { lockRetries: 0 } : {}) }),
  remove: async root => { fake.root.entries.delete(root) }
})

describeRandomAccessStorage('OpfsStorage over the fake OPFS', OPFS, () => fakeRunner)
