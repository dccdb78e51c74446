/**
 * worker_threads entry of the Node executor: adapts the port to {@link SandboxRuntime}.
 */
import { parentPort } from 'node:worker_threads'
import { ShadwError } from '../../core/errors.ts'
import { READY_MESSAGE, SandboxRuntime, serveCalls, type CallServer } from '../../core/sandbox/index.ts'

if (parentPort === null) throw ShadwError.INTERNAL('executor-worker must run in a worker thread')
const port = parentPort
const runtime = new SandboxRuntime()
const server: CallServer = {
  execute: async (req) => await runtime.execute(req),
  post: (msg, transfer) => { port.postMessage(msg, transfer) }
}

port.on('message', (batch: unknown) => { serveCalls(server, batch) })
port.postMessage(READY_MESSAGE)
