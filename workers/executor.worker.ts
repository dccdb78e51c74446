/**
 * Dedicated Worker entry of the browser executor: answers the pool's calls over this
 * worker's port (core/sandbox/worker-envelope.ts). Calls run one at a time, in order; the
 * pool terminates this worker at a deadline.
 */
// Not through the folder's index: it also exports the executor that spawns this worker, and a
// worker bundle must not contain a `new Worker(new URL(...))` of itself.
import { READY_MESSAGE } from '../src/core/sandbox/index.ts'
import { createExecutorWorkerApi } from '../src/browser/executor/worker-api.ts'
import { RESPAWNED_WORKER_NAME } from '../src/browser/executor/worker-names.ts'

// a worker the pool started again after stopping one (a deadline, a memory cap) skips the warm-up
const warmUp = (self as unknown as { name?: string }).name !== RESPAWNED_WORKER_NAME
const api = createExecutorWorkerApi((msg, transfer) => { self.postMessage(msg, { transfer }) }, { warmUp })
self.addEventListener('message', (ev: MessageEvent) => { api.onmessage(ev.data) })
// the pool waits for this before arming deadlines: after the start's warm-up, which counts against no call
void api.warmed.then(() => { self.postMessage(READY_MESSAGE) })
