/// <reference lib="webworker" />
/**
 * The node worker: the origin's one shadw node, hosted by the leader tab. A Dedicated Worker
 * because OPFS sync access handles exist only there, and because the page's main thread must
 * never do the node's work. What it runs is the browser host's (src/browser/node-worker-host.ts).
 */
import { serveNodeWorker } from '../src/browser/node-worker-host.ts'

declare const self: DedicatedWorkerGlobalScope

serveNodeWorker(self)
