/**
 * The executor worker's side of the pool's envelope: {@link SandboxRuntime} answering the
 * calls of each message. It lives beside the browser executor, so the pool and the worker
 * entry share one module without the executor importing the entry.
 */
import { SandboxRuntime, serveCalls, type CallServer, type PrepareEvent } from '../../core/sandbox/index.ts'
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

/** Builds the message handler a Dedicated Worker installs for {@link createBrowserExecutor}'s pool. */
export function createExecutorWorkerApi (post: CallServer['post']): { onmessage: (batch: unknown) => void, warmed: Promise<void> } {
  const store = CacheStorageInstrumentedStore.available() ? new CacheStorageInstrumentedStore() : undefined
  // warmed at start: a contributor tab's first call of a new module must not pay the worker's cold JIT
  const runtime = new SandboxRuntime(undefined, { ...(store === undefined ? {} : { store }), onPrepare: announce(), warmUp: true })
  const server: CallServer = { execute: async (req) => await runtime.execute(req), post }
  return { onmessage: (batch) => { serveCalls(server, batch) }, warmed: runtime.warmed }
}

/** The worker's side of the envelope. */
export type ExecutorWorkerApi = ReturnType<typeof createExecutorWorkerApi>
