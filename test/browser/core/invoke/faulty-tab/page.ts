/**
 * A contributor tab whose executor is faulty, for the quorum and retry tests: the app's
 * NodeClient over the test's node worker entry (./node.worker.ts). `?relay=` names the super
 * node's relay, `?fault=lie|hold` the fault, `?execute=N` the executor workers. Exposes the
 * client as `window.shadw`, as the app does, so test/helpers/app-page.ts drives it.
 */
import { NodeClient } from '../../../../../src/app/node-client.ts'
import { parseFault } from './faulty-executor.ts'

const params = new URLSearchParams(location.search)
const fault = parseFault(params.get('fault'))
const client = new NodeClient({
  relayUrl: params.get('relay') ?? '',
  execute: { workers: Number(params.get('execute') ?? '1') },
  // the worker's name carries the fault: init messages are the app's, and carry none
  createWorker: () => new Worker(new URL('./node.worker.ts', import.meta.url), { type: 'module', name: fault })
})
client.start()
;(globalThis as { shadw?: unknown }).shadw = client
