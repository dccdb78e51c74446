/**
 * A dedicated worker that hosts a browser executor of its own (nested workers), to show
 * the pool works off the page's main thread too. Answers one call per message.
 */
import { createBrowserExecutor } from '../../../../src/browser/executor/index.ts'
import { runWireCalls, type WireCall } from '../../../compliance/executor-wire.ts'

const executor = createBrowserExecutor({ size: 1 })

self.addEventListener('message', (ev: MessageEvent<WireCall>) => {
  void runWireCalls(executor, [ev.data]).then(outcomes => { self.postMessage(outcomes[0]) })
})
