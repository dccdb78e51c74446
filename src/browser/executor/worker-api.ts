/**
 * The executor worker's side of the pool's envelope: {@link SandboxRuntime} answering the
 * calls of each message. It lives beside the browser executor, so the pool and the worker
 * entry share one module without the executor importing the entry.
 */
import { SandboxRuntime, serveCalls, type CallServer } from '../../core/sandbox/index.ts'

/** Builds the message handler a Dedicated Worker installs for {@link createBrowserExecutor}'s pool. */
export function createExecutorWorkerApi (post: CallServer['post']): { onmessage: (batch: unknown) => void } {
  const runtime = new SandboxRuntime()
  const server: CallServer = { execute: async (req) => await runtime.execute(req), post }
  return { onmessage: (batch) => { serveCalls(server, batch) } }
}

/** The worker's side of the envelope. */
export type ExecutorWorkerApi = ReturnType<typeof createExecutorWorkerApi>
