/**
 * Dedicated Worker entry of the browser executor: exposes the executor worker API over
 * comlink. One call at a time; the pool terminates this worker at a deadline.
 */
import { expose } from 'comlink'
// Not through the folder's index: it also exports the executor that spawns this worker, and a
// worker bundle must not contain a `new Worker(new URL(...))` of itself.
import { installErrorTransfer } from '../src/browser/executor/comlink-errors.ts'
import { EXECUTOR_READY } from '../src/browser/executor/ready.ts'
import { createExecutorWorkerApi } from '../src/browser/executor/worker-api.ts'

installErrorTransfer()
expose(createExecutorWorkerApi())
// comlink ignores messages without its id; the pool waits for this before arming deadlines
self.postMessage(EXECUTOR_READY)
