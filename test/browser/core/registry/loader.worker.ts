/// <reference lib="webworker" />
/**
 * A browser node in a Dedicated Worker, as the app hosts it, with verified modules cached in
 * OPFS by hash (`StorageModuleStore` over `opfsStorage`).
 */
import RAM from 'random-access-memory'
import { BrowserNode } from '../../../../src/browser/browser-node.ts'
import { opfsStorage } from '../../../../src/browser/opfs-storage.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { FunctionLoader, StorageModuleStore } from '../../../../src/core/registry/index.ts'

declare const self: DedicatedWorkerGlobalScope

/** A call from the page. */
export type WorkerCall = { op: 'start', relayUrl: string } | { op: 'load', ref: string } | { op: 'stop' }
/** A call with its id. */
export type WorkerRequest = WorkerCall & { id: number }
/** The worker's answer. */
export interface WorkerAnswer { id: number, ok: boolean, value?: unknown, code?: string, message?: string }

let host: BrowserNode | null = null
let loader: FunctionLoader | null = null

self.addEventListener('message', (e: MessageEvent<WorkerRequest>) => {
  const req = e.data
  const run = async (): Promise<unknown> => {
    switch (req.op) {
      case 'start':
        host = await BrowserNode.start({ relayUrl: req.relayUrl, storage: RAM.reusable(), storageKind: 'memory', leader: 'registry-worker' })
        loader = new FunctionLoader({ host: host.node, cache: new StorageModuleStore(opfsStorage('shadw-registry-test')) })
        return null
      case 'load': {
        if (loader === null) throw ShadwError.NODE_CLOSED('not started')
        const fn = await loader.load(req.ref)
        return { version: fn.manifest.version, moduleHash: fn.manifest.moduleHash, source: fn.source, size: fn.module.byteLength }
      }
      case 'stop':
        await loader?.close()
        await host?.stop()
        return null
    }
  }
  run().then(
    value => { self.postMessage({ id: req.id, ok: true, value } satisfies WorkerAnswer) },
    (err: unknown) => {
      const e = err instanceof ShadwError ? err : ShadwError.INTERNAL(String(err))
      self.postMessage({ id: req.id, ok: false, code: e.code, message: e.message } satisfies WorkerAnswer)
    }
  )
})
