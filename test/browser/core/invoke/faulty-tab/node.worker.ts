/**
 * A test's node worker entry: the app's node worker (src/browser/node-worker-host.ts) with
 * every executor it starts wrapped in the fault the page named the worker after. Built only
 * by tests (test/helpers/test-page.ts); the app's own entry has no such hook.
 */
import { serveNodeWorker, type NodeWorkerScope } from '../../../../../src/browser/node-worker-host.ts'
import { FaultyExecutor, parseFault } from './faulty-executor.ts'

const scope = globalThis as unknown as NodeWorkerScope & { name: string }
const fault = parseFault(scope.name)

serveNodeWorker(scope, { wrapExecutor: (executor) => new FaultyExecutor(executor, fault) })
