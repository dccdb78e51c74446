/**
 * The executor worker's comlink surface: {@link SandboxRuntime} behind one `execute` method.
 * It lives beside the browser executor that wraps it, so the executor and the worker entry
 * share one type without the executor importing the entry.
 */
import { transfer } from 'comlink'
import { SandboxRuntime, type WorkerReply } from '../../core/sandbox/index.ts'

/** Builds the API a Dedicated Worker exposes to {@link createBrowserExecutor}'s pool. */
export function createExecutorWorkerApi (): { execute: (req: unknown) => Promise<WorkerReply> } {
  const runtime = new SandboxRuntime()
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
