import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import Corestore from 'corestore'
import { createServer, type InlineConfig } from 'vite'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createPublisherKeyPair, Registry, RegistryFollows } from '../../../../src/core/registry/index.ts'
import { launchChromium, newContext } from '../../../helpers/chromium.ts'
import { startSuperNode, tempDir } from '../../../helpers/super-node.ts'
import { paddedEcho } from '../../../helpers/registry.ts'
import type { LoadOutcome, RegistryTestApi } from './page.ts'

declare global {
  interface Window { registryTest: RegistryTestApi }
}

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))

/** The CommonJS Holepunch stack is pre-bundled once at start-up (discovery off: no reload mid-test). */
const VITE_CONFIG: InlineConfig = {
  root: REPO_ROOT,
  configFile: false,
  logLevel: 'warn',
  cacheDir: 'node_modules/.vite-registry-test',
  define: { global: 'globalThis' },
  server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
  optimizeDeps: {
    noDiscovery: true,
    include: [
      'hypercore', 'corestore', 'hyperswarm', 'hyperbee', 'hypercore-crypto', 'compact-encoding', 'semver',
      'random-access-memory', 'random-access-storage', 'b4a', '@hyperswarm/dht-relay', '@hyperswarm/dht-relay/ws'
    ]
  }
}

describe('registry in the browser', () => {
  it('a browser node follows a publisher on the super node, fetches the module sparsely and verifies it; yanked versions are refused', async () => {
    // publish into a super node's storage, as `shadw publish` does, then start the super node on it
    const storage = await tempDir()
    const store = new Corestore(storage)
    const registry = await Registry.create(store, createPublisherKeyPair())
    const v1 = await paddedEcho(100_000, 1) // blocks 0-1
    const v11 = await paddedEcho(70_000, 2) // blocks 2-3
    const v12 = await paddedEcho(5_000, 3) // block 4
    await registry.publish(v1, { name: 'echo', version: '1.0.0' })
    const signed = await registry.publish(v11, { name: 'echo', version: '1.1.0' })
    await registry.publish(v12, { name: 'echo', version: '1.2.0' })
    await registry.yank('echo', '1.2.0', 'broken')
    const follows = await RegistryFollows.open(store)
    await follows.add(registry.key)
    await follows.close()
    const key = registry.key
    await registry.close()
    await store.close()
    const superNode = await startSuperNode({ storage })

    const server = await createServer(VITE_CONFIG)
    await server.listen()
    onTestFinished(async () => { await server.close() })
    const { port } = server.httpServer?.address() as AddressInfo
    const browser = await launchChromium()
    const page = await (await newContext(browser)).newPage()
    if (process.env['SHADW_DEBUG'] !== undefined) page.on('console', m => { console.log('[page]', m.text()) })
    await page.goto(`http://127.0.0.1:${port}/test/browser/core/registry/page.html`)
    await page.waitForFunction(() => window.registryTest !== undefined, undefined, { timeout: 60_000 })
    await page.evaluate(async url => { await window.registryTest.start(url) }, superNode.info.relayUrl)
    onTestFinished(async () => { await page.evaluate(async () => { await window.registryTest.stop() }).catch(() => {}) })

    const loaded = await page.evaluate(async ref => await window.registryTest.load(ref, 5), `${key}/echo@^1`)
    expect(loaded).toEqual({
      ok: true,
      version: '1.1.0',
      moduleHash: signed.manifest.moduleHash,
      pageHash: signed.manifest.moduleHash,
      size: v11.byteLength,
      localBlocks: [false, false, true, true, false]
    } satisfies LoadOutcome)

    const yanked = await page.evaluate(async ref => await window.registryTest.load(ref, 0), `${key}/echo@1.2.0`)
    expect(yanked).toEqual({ ok: false, code: 'FUNCTION_YANKED', message: `FUNCTION_YANKED: ${key}/echo@1.2.0 was yanked by its publisher: broken` })
    const missing = await page.evaluate(async ref => await window.registryTest.load(ref, 0), `${key}/echo@^2`)
    expect(missing).toMatchObject({ ok: false, code: 'VERSION_NOT_FOUND' })

    // a node hosted in a Dedicated Worker caches verified modules in OPFS by hash: the first
    // load fetches from the blob log, later ones (also after a reload) come from OPFS, verified again
    const moduleHash = signed.manifest.moduleHash
    const ref = `${key}/echo@^1`
    expect(await page.evaluate(async url => await window.registryTest.inWorker({ op: 'start', relayUrl: url }), superNode.info.relayUrl)).toMatchObject({ ok: true })
    expect(await page.evaluate(async r => await window.registryTest.inWorker({ op: 'load', ref: r }), ref))
      .toMatchObject({ ok: true, value: { version: '1.1.0', moduleHash, source: 'blob-log', size: v11.byteLength } })
    expect(await page.evaluate(async r => await window.registryTest.inWorker({ op: 'load', ref: r }), ref))
      .toMatchObject({ ok: true, value: { version: '1.1.0', moduleHash, source: 'cache' } })
    await page.evaluate(async () => { await window.registryTest.stop() })
    await page.reload()
    await page.waitForFunction(() => window.registryTest !== undefined, undefined, { timeout: 60_000 })
    expect(await page.evaluate(async url => await window.registryTest.inWorker({ op: 'start', relayUrl: url }), superNode.info.relayUrl)).toMatchObject({ ok: true })
    expect(await page.evaluate(async r => await window.registryTest.inWorker({ op: 'load', ref: r }), ref))
      .toMatchObject({ ok: true, value: { version: '1.1.0', moduleHash, source: 'cache' } })
    const opfsEntry = await page.evaluate(async hash => {
      const root = await navigator.storage.getDirectory()
      const dir = await (await root.getDirectoryHandle('shadw-registry-test')).getDirectoryHandle('modules')
      return (await (await dir.getFileHandle(hash)).getFile()).size
    }, moduleHash)
    expect(opfsEntry).toBe(4 + v11.byteLength)
  })
})
