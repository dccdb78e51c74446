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

/**
 * Every executor worker of this origin says on this channel how it started: `{ warmUp: true,
 * ms }` after its warm-up, `{ warmUp: false }` when it skipped it (a worker the pool started
 * again after stopping one), so tests and benches can tell.
 */
export const START_CHANNEL = 'shadw-sandbox-start'

/** A worker's start, as {@link START_CHANNEL} carries it. */
export type StartEvent = { warmUp: true, ms: number } | { warmUp: false }

function announceStart (event: StartEvent): void {
  if (typeof BroadcastChannel === 'undefined') return
  const channel = new BroadcastChannel(START_CHANNEL)
  channel.postMessage(event)
  channel.close()
}

/**
 * Builds the message handler a Dedicated Worker installs for {@link createBrowserExecutor}'s
 * pool. `warmUp`: warm the metering pass at start (a worker the pool starts with; one it
 * starts again after a deadline or a memory cap skips it).
 */
export function createExecutorWorkerApi (post: CallServer['post'], opts: { warmUp: boolean } = { warmUp: true }): { onmessage: (batch: unknown) => void, warmed: Promise<void> } {
  const store = CacheStorageInstrumentedStore.available() ? new CacheStorageInstrumentedStore() : undefined
  // warmed at start: a contributor tab's first call of a new module must not pay the worker's cold JIT
  const runtime = new SandboxRuntime(undefined, { ...(store === undefined ? {} : { store }), onPrepare: announce(), warmUp: opts.warmUp, onWarm: (ms) => { announceStart({ warmUp: true, ms }) } })
  if (!opts.warmUp) announceStart({ warmUp: false })
  const server: CallServer = { execute: async (req) => await runtime.execute(req), post }
  return { onmessage: (batch) => { serveCalls(server, batch) }, warmed: runtime.warmed }
}

/** The worker's side of the envelope. */
export type ExecutorWorkerApi = ReturnType<typeof createExecutorWorkerApi>
