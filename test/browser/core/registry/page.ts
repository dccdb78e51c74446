/**
 * The registry browser test page: a browser node (relay, in-memory storage) that follows a
 * publisher on a super node and loads functions with the same FunctionLoader nodes use.
 */
import RAM from 'random-access-memory'
import { BrowserNode } from '../../../../src/browser/browser-node.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { FunctionLoader } from '../../../../src/core/registry/index.ts'
import { sha256Hex } from '../../../../src/core/sandbox/index.ts'
import type { WorkerAnswer, WorkerCall, WorkerRequest } from './loader.worker.ts'

/** What the Node-side test reads back from one load. */
export type LoadOutcome =
  | { ok: true, version: string, moduleHash: string, pageHash: string, size: number, localBlocks: boolean[] }
  | { ok: false, code: string, message: string }

let host: BrowserNode | null = null
let loader: FunctionLoader | null = null

async function start (relayUrl: string): Promise<void> {
  host = await BrowserNode.start({ relayUrl, storage: RAM.reusable(), storageKind: 'memory', leader: 'registry-test' })
  loader = new FunctionLoader({ host: host.node })
}

async function load (ref: string, probeBlocks: number): Promise<LoadOutcome> {
  if (host === null || loader === null) throw new Error('not started')
  try {
    const fn = await loader.load(ref)
    const localBlocks: boolean[] = []
    for (let i = 0; i < probeBlocks; i++) localBlocks.push(await host.node.has(fn.manifest.blob.key, i))
    return { ok: true, version: fn.manifest.version, moduleHash: fn.manifest.moduleHash, pageHash: await sha256Hex(fn.module), size: fn.module.byteLength, localBlocks }
  } catch (err) {
    const e = err instanceof ShadwError ? err : ShadwError.INTERNAL(String(err))
    return { ok: false, code: e.code, message: e.message }
  }
}

async function stop (): Promise<void> {
  await loader?.close()
  await host?.stop()
  worker?.terminate()
}

let worker: Worker | null = null
let nextId = 1
const pending = new Map<number, (a: WorkerAnswer) => void>()

/** Sends one request to the worker-hosted node (started on first use). */
function inWorker (req: WorkerCall): Promise<WorkerAnswer> {
  if (worker === null) {
    worker = new Worker(new URL('./loader.worker.ts', import.meta.url), { type: 'module' })
    worker.addEventListener('message', (e: MessageEvent<WorkerAnswer>) => {
      pending.get(e.data.id)?.(e.data)
      pending.delete(e.data.id)
    })
  }
  const id = nextId++
  const w = worker
  return new Promise(resolve => {
    pending.set(id, resolve)
    w.postMessage({ ...req, id } satisfies WorkerRequest)
  })
}

/** The page's test API. */
export interface RegistryTestApi { start: typeof start, load: typeof load, stop: typeof stop, inWorker: typeof inWorker }

;(window as unknown as { registryTest: RegistryTestApi }).registryTest = { start, load, stop, inWorker }
