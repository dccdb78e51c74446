import Corestore from 'corestore'
import { describe, expect, it } from 'vitest'
import { createPublisherKeyPair, Registry, RegistryFollows } from '../../../../src/core/registry/index.ts'
import { launchChromium, newContext } from '../../../helpers/chromium.ts'
import { call, nodeReady, openApp } from '../../../helpers/app-page.ts'
import { startSuperNode, tempDir } from '../../../helpers/super-node.ts'
import { paddedEcho } from '../../../helpers/registry.ts'

describe("the app's node worker loads signed functions", () => {
  it('resolves a range, verifies the module, caches it in OPFS across reloads, and refuses a yanked version', async () => {
    // publish into a super node's storage, as `shadw publish` does, then start the super node on it
    const storage = await tempDir()
    const store = new Corestore(storage)
    const registry = await Registry.create(store, createPublisherKeyPair())
    await registry.publish(await paddedEcho(5_000, 1), { name: 'echo', version: '1.0.0' })
    const latest = await registry.publish(await paddedEcho(6_000, 2), { name: 'echo', version: '1.4.2' })
    await registry.publish(await paddedEcho(7_000, 3), { name: 'echo', version: '2.0.0' })
    await registry.yank('echo', '2.0.0', 'broken')
    const follows = await RegistryFollows.open(store)
    await follows.add(registry.key)
    await follows.close()
    const publisher = registry.key
    await registry.close()
    await store.close()
    const superNode = await startSuperNode({ storage })

    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), superNode.info.appUrl)
    const first = await call(page, 'loadFunction', { ref: `${publisher}/echo@^1` })
    expect(first).toEqual({ ref: `${publisher}/echo@1.4.2`, manifest: latest.manifest, signature: first.signature, source: 'blob-log' })
    expect(first.signature).toMatch(/^[0-9a-f]{128}$/)

    await page.reload()
    await nodeReady(page)
    const again = await call(page, 'loadFunction', { ref: `${publisher}/echo@1.4.2` })
    expect(again.source).toBe('cache')
    expect(again.manifest.moduleHash).toBe(latest.manifest.moduleHash)

    const codeOf = async (ref: string): Promise<string> => await page.evaluate(async r => {
      try {
        await (window as unknown as { shadw: { call (m: string, p: unknown): Promise<unknown> } }).shadw.call('loadFunction', { ref: r })
        return 'no error'
      } catch (err) {
        return (err as { code: string }).code
      }
    }, ref)
    expect(await codeOf(`${publisher}/echo@2.0.0`)).toBe('FUNCTION_YANKED')
    expect(await codeOf('not a ref')).toBe('INVALID_FUNCTION_REF')
  })
})
