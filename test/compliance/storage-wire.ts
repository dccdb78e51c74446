/**
 * A JSON-safe form of random-access-storage and module-store calls, and the one runner that
 * carries them out, so the storage compliance suites drive a storage in this process (memory,
 * files) or inside a Chromium worker (OPFS) through `page.evaluate` with the same cases.
 * Bytes travel as hex or as byte runs because playwright's evaluate carries JSON.
 *
 * Runs in Node and in a Dedicated Worker: no Node, DOM or vitest imports.
 */
import b4a from 'b4a'
import type RandomAccessStorage from 'random-access-storage'
// the module itself, not the registry barrel: the barrel pulls Hyperbee and the whole
// registry into the OPFS test worker, whose bundler pre-bundles only the storage stack
import { StorageModuleStore } from '../../src/core/registry/module-store.ts'
import { sha256Hex } from '../../src/core/sandbox/index.ts'

/** One random-access-storage call, as the suites and the OPFS tests issue it. */
export type StorageOp =
  | { op: 'read', offset: number, size: number }
  /** A read answered as byte runs (`[byte, count]`), for ranges too big to send as hex. */
  | { op: 'scan', offset: number, size: number }
  | { op: 'write', offset: number, hex: string }
  /** A write of `size` copies of `byte`, for sizes too big to send as hex. */
  | { op: 'fill', offset: number, size: number, byte: number }
  | { op: 'del', offset: number, size: number }
  | { op: 'truncate', offset: number }
  | { op: 'stat' }
  | { op: 'open' }
  | { op: 'suspend' }
  | { op: 'close' }
  | { op: 'unlink' }

/**
 * Where a file is opened from. `here` is the node itself; `elsewhere` another process or
 * worker using the same store at the same time (a second node on one directory, a second tab);
 * `restart` the node after a restart (a new process, a reloaded page) on the same store.
 */
export type StorageContext = 'here' | 'elsewhere' | 'restart'

/** Module bytes for a put: literal hex, or `size` bytes of {@link patternBytes}. */
export type BytesSpec = { hex: string } | { pattern: number, size: number }

/** What a suite asks the runner to do; every file lives under a `root` private to one test. */
export type StorageCommand =
  /** Makes a storage instance for `name`; answers its id (nothing is opened yet). */
  | { kind: 'open', root: string, name: string, context?: StorageContext }
  /** Runs one call; with `host`, a failure is reported as the host reports it to its operator. */
  | { kind: 'op', sid: number, call: StorageOp, host?: boolean }
  /** Issues every call at once, without waiting for any: answers a {@link BatchOutcome}. */
  | { kind: 'batch', sid: number, calls: StorageOp[] }
  | { kind: 'module-put', root: string, hash: string, bytes: BytesSpec }
  | { kind: 'module-get', root: string, hash: string, context?: StorageContext }
  /** Closes every instance under `root` and removes what it stored. */
  | { kind: 'end', root: string }

/** How a call ended: its value, or its error code (and the message when it has no code). */
export type Outcome =
  | { ok: true, value: unknown }
  | { ok: false, code: string | null, message?: string }

/** The outcomes of a batch in issue order, and the order their callbacks ran in. */
export interface BatchOutcome {
  outcomes: Outcome[]
  order: number[]
}

/** A storage function, as Hypercore and Corestore take it: one instance per file name. */
export type StorageFactory = (name: string) => RandomAccessStorage

/** What a host supplies to run the suites against its storage. */
export interface StorageHost {
  /** The storage function for `root` as seen from `context`; asked once per root and context. */
  factory (root: string, context: StorageContext): StorageFactory
  /** The error the host reports for a failure on `path` (e.g. the super node's `storageError`). */
  hostError? (err: unknown, path: string): unknown
  /** Removes what is stored under `root`, once the runner has closed its files there. */
  remove? (root: string): Promise<void>
}

/** `size` bytes that differ from their neighbours and from another seed's, so a misplaced or stale byte shows. */
export function patternBytes (seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff
  return out
}

/** Largest value answered as hex; bigger ones are answered by length and SHA-256. */
const HEX_BYTES = 64

/** How module bytes travel back: hex when short, else their length and SHA-256. */
export async function describeBytes (bytes: Uint8Array): Promise<string> {
  if (bytes.byteLength <= HEX_BYTES) return b4a.toString(bytes, 'hex')
  return `${bytes.byteLength} bytes, sha256 ${await sha256Hex(bytes)}`
}

function bytesOf (spec: BytesSpec): Uint8Array {
  return 'hex' in spec ? b4a.from(spec.hex, 'hex') : patternBytes(spec.pattern, spec.size)
}

/** Byte runs of `bytes`: `[[0xab, 3], [0, 2]]` for `ab ab ab 00 00`. */
export function byteRuns (bytes: Uint8Array): Array<[number, number]> {
  const runs: Array<[number, number]> = []
  for (const b of bytes) {
    const last = runs[runs.length - 1]
    if (last !== undefined && last[0] === b) last[1]++
    else runs.push([b, 1])
  }
  return runs
}

/** Starts `c` on `s`; its outcome arrives through `done`. */
function startOp (s: RandomAccessStorage, c: StorageOp, done: (err: Error | null | undefined, value?: unknown) => void): void {
  const end = (err: Error | null | undefined): void => done(err, null)
  switch (c.op) {
    case 'read': return s.read(c.offset, c.size, (err, buf) => done(err, buf === undefined || buf === null ? null : b4a.toString(buf, 'hex')))
    case 'scan': return s.read(c.offset, c.size, (err, buf) => done(err, buf === undefined || buf === null ? null : byteRuns(buf)))
    case 'write': return s.write(c.offset, b4a.from(c.hex, 'hex'), end)
    case 'fill': return s.write(c.offset, new Uint8Array(c.size).fill(c.byte), end)
    case 'del': return s.del(c.offset, c.size, end)
    case 'truncate': return s.truncate(c.offset, end)
    case 'stat': return s.stat((err, st) => done(err, st === undefined ? null : { size: st.size }))
    case 'open': return s.open(end)
    case 'suspend': return s.suspend(end)
    case 'close': return s.close(end)
    case 'unlink': return s.unlink(end)
  }
}

/**
 * Runs one call on `s`; resolves with its wire value, rejects with the storage's own error.
 * Success is any falsy error, as random-access-storage has it: random-access-file's `del`
 * calls back with `undefined`.
 */
export function runOp (s: RandomAccessStorage, c: StorageOp): Promise<unknown> {
  return new Promise((resolve, reject) => startOp(s, c, (err, value) => { isError(err) ? reject(err) : resolve(value ?? null) }))
}

function isError (err: Error | null | undefined): err is Error {
  return err !== null && err !== undefined
}

/** The wire form of a failure: its code, and its message only when it has no code. */
export function failure (err: unknown): Outcome {
  const e = err as { code?: unknown, message?: unknown } | null
  const code = typeof e?.code === 'string' ? e.code : null
  return code !== null ? { ok: false, code } : { ok: false, code, message: typeof e?.message === 'string' ? e.message : String(err) }
}

interface Instance {
  root: string
  name: string
  storage: RandomAccessStorage
}

/**
 * Carries out {@link StorageCommand}s against a host's storage. One runner serves a whole test
 * file; each test works under its own root and ends it.
 */
export class StorageRunner {
  readonly #host: StorageHost
  readonly #factories = new Map<string, StorageFactory>()
  readonly #instances = new Map<number, Instance>()
  #nextSid = 1

  constructor (host: StorageHost) {
    this.#host = host
  }

  #factory (root: string, context: StorageContext): StorageFactory {
    const key = `${context}:${root}`
    let factory = this.#factories.get(key)
    if (factory === undefined) this.#factories.set(key, factory = this.#host.factory(root, context))
    return factory
  }

  #instance (sid: number): Instance {
    const instance = this.#instances.get(sid)
    if (instance === undefined) throw new Error('no storage ' + sid)
    return instance
  }

  /** Runs one command; answers its JSON-safe result. */
  async run (cmd: StorageCommand): Promise<unknown> {
    switch (cmd.kind) {
      case 'open': {
        const sid = this.#nextSid++
        this.#instances.set(sid, { root: cmd.root, name: cmd.name, storage: this.#factory(cmd.root, cmd.context ?? 'here')(cmd.name) })
        return sid
      }
      case 'op': {
        const { root, name, storage } = this.#instance(cmd.sid)
        try {
          return { ok: true, value: await runOp(storage, cmd.call) } satisfies Outcome
        } catch (err) {
          const hostError = this.#host.hostError
          return failure(cmd.host === true && hostError !== undefined ? hostError(err, `${root}/${name}`) : err)
        }
      }
      case 'batch':
        return await this.#batch(this.#instance(cmd.sid).storage, cmd.calls)
      case 'module-put':
        try {
          await new StorageModuleStore(this.#factory(cmd.root, 'here')).put(cmd.hash, bytesOf(cmd.bytes))
          return { ok: true, value: null } satisfies Outcome
        } catch (err) {
          return failure(err)
        }
      case 'module-get':
        try {
          const bytes = await new StorageModuleStore(this.#factory(cmd.root, cmd.context ?? 'here')).get(cmd.hash)
          return { ok: true, value: bytes === null ? null : await describeBytes(bytes) } satisfies Outcome
        } catch (err) {
          return failure(err)
        }
      case 'end':
        return await this.#end(cmd.root)
    }
  }

  #batch (storage: RandomAccessStorage, calls: StorageOp[]): Promise<BatchOutcome> {
    const outcomes: Outcome[] = new Array(calls.length)
    const order: number[] = []
    return new Promise(resolve => {
      calls.forEach((call, i) => {
        startOp(storage, call, (err, value) => {
          outcomes[i] = isError(err) ? failure(err) : { ok: true, value: value ?? null }
          order.push(i)
          if (order.length === calls.length) resolve({ outcomes, order })
        })
      })
    })
  }

  async #end (root: string): Promise<null> {
    for (const [sid, instance] of this.#instances) {
      if (instance.root !== root) continue
      this.#instances.delete(sid)
      await runOp(instance.storage, { op: 'close' }).catch(() => {})
    }
    for (const key of this.#factories.keys()) {
      if (key.endsWith(':' + root)) this.#factories.delete(key)
    }
    await this.#host.remove?.(root)
    return null
  }
}
