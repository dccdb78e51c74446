/**
 * Dedicated Worker entry of the browser executor: exposes {@link SandboxRuntime} over
 * comlink. One call at a time; the pool terminates this worker at a deadline.
 */
import { expose, transfer } from 'comlink'
import { installErrorTransfer } from '../src/browser/executor/comlink-errors.ts'
import { EXECUTOR_READY } from '../src/browser/executor/ready.ts'
import { SandboxRuntime, type WorkerReply } from '../src/sandbox/index.ts'

installErrorTransfer()
const runtime = new SandboxRuntime()

const api = {
  /** Runs one untrusted request; rejects with a ShadwError whose code survives comlink. */
  async execute (req: unknown): Promise<WorkerReply> {
    const reply = await runtime.execute(req)
    if (reply.kind !== 'done') return reply
    return transfer(reply, [reply.output.buffer as ArrayBuffer, reply.stderr.buffer as ArrayBuffer])
  }
}

/** The worker's comlink surface, for `wrap<ExecutorWorkerApi>`. */
export type ExecutorWorkerApi = typeof api

expose(api)
// comlink ignores messages without its id; the pool waits for this before arming deadlines
self.postMessage(EXECUTOR_READY)
