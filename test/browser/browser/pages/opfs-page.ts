/**
 * The OPFS test page: starts module workers running `opfs.worker.ts` and relays commands from
 * the Node-side test (through playwright's evaluate) to them.
 */
import type { CallResult, WorkerCommand, WorkerEvent, WorkerReply } from './opfs-protocol.ts'
import { opfsStorage } from '../../../../src/browser/opfs-storage.ts'

interface TestWorker {
  worker: Worker
  pending: Map<number, (r: CallResult) => void>
}

const workers = new Map<number, TestWorker>()
const events: WorkerEvent[] = []
let nextWorker = 1
let nextCall = 1

function spawn (): number {
  const id = nextWorker++
  const worker = new Worker(new URL('./opfs.worker.ts', import.meta.url), { type: 'module' })
  const tw: TestWorker = { worker, pending: new Map() }
  worker.addEventListener('message', (e: MessageEvent<WorkerReply | WorkerEvent>) => {
    const m = e.data
    if ('event' in m) { events.push(m); return }
    const resolve = tw.pending.get(m.id)
    tw.pending.delete(m.id)
    resolve?.(m.ok ? { ok: true, value: m.value } : { ok: false, error: m.error })
  })
  worker.addEventListener('error', (e) => {
    for (const resolve of tw.pending.values()) resolve({ ok: false, error: { name: 'WorkerError', code: null, message: e.message } })
    tw.pending.clear()
  })
  workers.set(id, tw)
  return id
}

function call (workerId: number, cmd: WorkerCommand): Promise<CallResult> {
  const tw = workers.get(workerId)
  if (tw === undefined) return Promise.resolve({ ok: false, error: { name: 'Error', code: null, message: 'no worker ' + workerId } })
  const id = nextCall++
  return new Promise(resolve => {
    tw.pending.set(id, resolve)
    tw.worker.postMessage({ id, cmd })
  })
}

/** Opens a file with the adapter on the page itself, where sync access handles do not exist. */
function openInWindow (root: string, name: string): Promise<CallResult> {
  return new Promise(resolve => {
    opfsStorage(root)(name).stat((err) => {
      const e = err as (Error & { code?: string }) | null
      resolve(e === null ? { ok: true, value: null } : { ok: false, error: { name: e.name, code: e.code ?? null, message: e.message } })
    })
  })
}

const api = { spawn, call, events, openInWindow, ready: true }
export type OpfsTestApi = typeof api
;(window as unknown as { opfsTest: OpfsTestApi }).opfsTest = api
