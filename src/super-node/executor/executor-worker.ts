/**
 * worker_threads entry of the Node executor: adapts the port to {@link SandboxRuntime}.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { ShadwError } from '../../core/errors.ts'
import { READY_MESSAGE, SandboxRuntime, serveCalls, type CallServer } from '../../core/sandbox/index.ts'

if (parentPort === null) throw ShadwError.INTERNAL('executor-worker must run in a worker thread')
const port = parentPort
// warmed at start when the pool asks (node-executor.ts): a super node's first call of a new
// module must not pay its thread's cold JIT
const runtime = new SandboxRuntime(undefined, { warmUp: (workerData as { warmUp?: unknown } | null)?.warmUp === true })
const server: CallServer = {
  execute: async (req) => await runtime.execute(req),
  post: (msg, transfer) => { port.postMessage(msg, transfer) }
}

port.on('message', (batch: unknown) => { serveCalls(server, batch) })
// the pool arms deadlines once this arrives: after the warm-up, so it counts against no call
void runtime.warmed.then(() => { port.postMessage(READY_MESSAGE) })
