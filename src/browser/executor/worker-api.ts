/**
 * The executor worker's comlink surface: {@link SandboxRuntime} behind one `execute` method.
 * It lives beside the browser executor that wraps it, so the executor and the worker entry
 * share one type without the executor importing the entry.
 */
import { transfer } from 'comlink'
import { SandboxRuntime, type PrepareEvent, type WorkerReply } from '../../core/sandbox/index.ts'
import { CacheStorageInstrumentedStore } from './instrumented-cache.ts'

/**
 * Every executor worker of this origin says on this channel how it made each module ready
 * (`{ hash, source: 'instrumented' | 'store', ms }`), so tests and benches can tell a reload
 * that instrumented again from one that took the stored module.
 */
export const PREPARE_CHANNEL = 'shadw-sandbox-prepare'

function announce (): (event: PrepareEvent) => void {
  if (typeof BroadcastChannel === 'undefined') return () => {}
  const channel = new BroadcastChannel(PREPARE_CHANNEL)
  return (event) => { channel.postMessage(event) }
}

/** Builds the API a Dedicated Worker exposes to {@link createBrowserExecutor}'s pool. */
export function createExecutorWorkerApi (): { execute: (req: unknown) => Promise<WorkerReply> } {
  const store = CacheStorageInstrumentedStore.available() ? new CacheStorageInstrumentedStore() : undefined
  const runtime = new SandboxRuntime(undefined, { ...(store === undefined ? {} : { store }), onPrepare: announce() })
  return {
    /** Runs one untrusted request; rejects with a ShadwError whose code survives comlink. */
    async execute (req: unknown): Promise<WorkerReply> {
      const reply = await runtime.execute(req)
      if (reply.kind !== 'done') return reply
      return transfer(reply, [reply.output.buffer as ArrayBuffer, reply.stderr.buffer as ArrayBuffer])
    }
  }
}

/** The worker's comlink surface, for `wrap<ExecutorWorkerApi>`. */
export type ExecutorWorkerApi = ReturnType<typeof createExecutorWorkerApi>
