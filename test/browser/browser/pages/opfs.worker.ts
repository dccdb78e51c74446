/**
 * Test worker: runs the OPFS adapter (and, for reference, random-access-memory) on command
 * from the page, and real Hypercore 10 / Corestore 6 on top of it.
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import Hypercore from 'hypercore'
import RAM from 'random-access-memory'
import type RandomAccessStorage from 'random-access-storage'
import { coreOpenError } from '../../../../src/browser/storage-errors.ts'
import { OpfsStorage, opfsStorage, type OpfsDirectoryHandle } from '../../../../src/browser/opfs-storage.ts'
import { runOp, StorageRunner } from '../../../compliance/storage-wire.ts'
import type { WireError, WorkerCommand, WorkerEvent, WorkerReply } from './opfs-protocol.ts'

const storages = new Map<number, RandomAccessStorage>()
let nextSid = 1

function post (message: WorkerReply | WorkerEvent): void {
  (globalThis as unknown as { postMessage (m: unknown): void }).postMessage(message)
}

function toWire (err: unknown): WireError {
  const e = err as { name?: unknown, code?: unknown, message?: unknown, details?: unknown, cause?: { name?: unknown } }
  const out: WireError = {
    name: typeof e.name === 'string' ? e.name : 'Error',
    code: typeof e.code === 'string' ? e.code : null,
    message: typeof e.message === 'string' ? e.message : String(err)
  }
  if (typeof e.details === 'object' && e.details !== null) out.details = e.details as Record<string, unknown>
  if (typeof e.cause?.name === 'string') out.causeName = e.cause.name
  return out
}

function hex (bytes: Uint8Array): string {
  return b4a.toString(bytes, 'hex')
}

/** The OPFS root, as every storage function here reaches it. */
function topDirectory (): Promise<OpfsDirectoryHandle> {
  return (navigator as unknown as { storage: { getDirectory (): Promise<OpfsDirectoryHandle> } }).storage.getDirectory()
}

/** The storage compliance suites' commands, run against the adapter as the node worker uses it. */
const compliance = new StorageRunner({
  factory: (root, context) => opfsStorage(root, context === 'here'
    ? {}
    : {
        // a storage function with a root getter of its own keeps its own table of open
        // handles, as a reloaded page's worker (restart) or another tab's (elsewhere) does
        getDirectory: topDirectory,
        // another context gives up at once; waiting for a lock has tests of its own
        ...(context === 'elsewhere' ? { lockRetries: 0 } : {})
      }),
  remove: async root => {
    try {
      await (await topDirectory()).removeEntry(root, { recursive: true })
    } catch (err) {
      if ((err as { name?: unknown }).name !== 'NotFoundError') throw err
    }
  }
})

async function list (root: string): Promise<string[]> {
  type Walkable = OpfsDirectoryHandle & { entries (): AsyncIterable<[string, { kind: 'file' | 'directory' }]> }
  const out: string[] = []
  const walk = async (dir: Walkable, prefix: string): Promise<void> => {
    for await (const [name, entry] of dir.entries()) {
      if (entry.kind === 'directory') await walk(entry as unknown as Walkable, prefix + name + '/')
      else out.push(prefix + name)
    }
  }
  const top = await (navigator as unknown as { storage: { getDirectory (): Promise<Walkable> } }).storage.getDirectory()
  try {
    await walk(await top.getDirectoryHandle(root) as Walkable, '')
  } catch (err) {
    if ((err as { name?: unknown }).name !== 'NotFoundError') throw err
  }
  return out.sort()
}

async function readAll (core: Hypercore): Promise<string[]> {
  const blocks: string[] = []
  for (let i = 0; i < core.length; i++) {
    const block = await core.get(i, { wait: false })
    blocks.push(block === null ? '<missing>' : b4a.toString(block, 'utf8'))
  }
  return blocks
}

async function run (cmd: WorkerCommand): Promise<unknown> {
  switch (cmd.kind) {
    case 'open': {
      const sid = nextSid++
      const o = cmd.options ?? {}
      // a page size of 1 byte makes random-access-memory's del exact (it drops whole pages only)
      const storage = cmd.impl === 'ram'
        ? new RAM({ pageSize: 1 })
        : new OpfsStorage(cmd.root, cmd.name, {
          ...(o.lockRetries === undefined ? {} : { lockRetries: o.lockRetries }),
          ...(o.lockRetryDelayMs === undefined ? {} : { lockRetryDelayMs: o.lockRetryDelayMs }),
          ...(o.reportRetries === true ? { onLockRetry: (path: string, retry: number) => post({ event: 'lock-retry', path, retry }) } : {})
        })
      storages.set(sid, storage)
      return sid
    }
    case 'op': {
      const s = storages.get(cmd.sid)
      if (s === undefined) throw new Error('no storage ' + cmd.sid)
      return await runOp(s, cmd.call)
    }
    case 'list':
      return await list(cmd.root)
    case 'core-append': {
      const core = new Hypercore(opfsStorage(cmd.root))
      await core.ready()
      for (const b of cmd.blocks) await core.append(b4a.from(b, 'utf8'))
      const out = { key: hex(core.key as Uint8Array), length: core.length }
      // without close the worker dies with its files open: the reload test relies on that
      if (cmd.close) await core.close()
      return out
    }
    case 'core-read': {
      const core = new Hypercore(opfsStorage(cmd.root), null, { createIfMissing: cmd.createIfMissing })
      try {
        await core.ready()
      } catch (err) {
        await core.close().catch(() => {})
        throw coreOpenError(err, cmd.root)
      }
      try {
        return { key: hex(core.key as Uint8Array), length: core.length, blocks: await readAll(core) }
      } finally {
        await core.close()
      }
    }
    case 'core-audit': {
      const core = new Hypercore(opfsStorage(cmd.root), null, { createIfMissing: false })
      await core.ready()
      try {
        // Hypercore 10 keeps audit on its internal core: it re-hashes every stored block
        const inner = (core as unknown as { core: { audit (): Promise<{ tree: number, blocks: number }> } }).core
        const corrections = await inner.audit()
        return { corrections, blocks: await readAll(core) }
      } finally {
        await core.close()
      }
    }
    case 'store-append': {
      const store = new Corestore(opfsStorage(cmd.root))
      const core = store.get({ name: cmd.name })
      await core.ready()
      for (const b of cmd.blocks) await core.append(b4a.from(b, 'utf8'))
      const out = { key: hex(core.key as Uint8Array), length: core.length }
      await store.close()
      return out
    }
    case 'store-read': {
      const store = new Corestore(opfsStorage(cmd.root))
      const core = store.get({ name: cmd.name })
      await core.ready()
      const out = { key: hex(core.key as Uint8Array), length: core.length, blocks: await readAll(core) }
      await store.close()
      return out
    }
    case 'compliance':
      return await compliance.run(cmd.cmd)
  }
}

addEventListener('message', (e: MessageEvent<{ id: number, cmd: WorkerCommand }>) => {
  const { id, cmd } = e.data
  run(cmd).then(
    value => post({ id, ok: true, value }),
    (err: unknown) => post({ id, ok: false, error: toWire(err) })
  )
})
