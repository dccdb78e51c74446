/**
 * worker_threads entry of the Node executor: adapts the port to {@link SandboxRuntime}.
 */
import { parentPort } from 'node:worker_threads'
import { serializeError, ShadwError } from '../../core/errors.ts'
import { SandboxRuntime } from '../../core/sandbox/index.ts'
import { READY_MESSAGE, type ReplyMessage } from './worker-protocol.ts'

if (parentPort === null) throw ShadwError.INTERNAL('executor-worker must run in a worker thread')
const port = parentPort
const runtime = new SandboxRuntime()
/** Below 64 KiB a structured-clone copy is cheaper than detaching and moving the buffer. */
const TRANSFER_THRESHOLD_BYTES = 64 * 1024

port.on('message', (batch: unknown) => {
  if (!Array.isArray(batch)) return
  for (const msg of batch) handle(msg)
})
port.postMessage(READY_MESSAGE)

/** Runs one call (the runtime keeps them in order) and answers it on its own. */
function handle (msg: unknown): void {
  const id = typeof msg === 'object' && msg !== null ? (msg as { id?: unknown }).id : undefined
  if (typeof id !== 'number') return
  runtime.execute((msg as { req?: unknown }).req).then(reply => {
    const out: ReplyMessage = { id, ok: true, reply: reply.kind === 'done' && reply.stderr.length === 0 ? { ...reply, stderr: undefined } : reply }
    // moving a buffer costs more than copying a small one: transfer only large outputs
    const transfer = reply.kind === 'done' && reply.output.byteLength >= TRANSFER_THRESHOLD_BYTES ? [reply.output.buffer as ArrayBuffer] : []
    port.postMessage(out, transfer)
  }, (err: unknown) => {
    const out: ReplyMessage = { id, ok: false, error: serializeError(err) }
    port.postMessage(out)
  })
}
