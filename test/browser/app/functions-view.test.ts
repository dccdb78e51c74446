/**
 * The Functions view in Chromium: a super node serves a registry with a documented function;
 * the page lists it from the node's catalogue, finds it by a word of its description, opens
 * it (manifest, conditions, price, example), and one click runs the example through the
 * playground's invoke form on the swarm, receipts and all.
 */
import { join } from 'node:path'
import Corestore from 'corestore'
import { describe, expect, it } from 'vitest'
import { Registry, RegistryFollows, createPublisherKeyPair } from '../../../src/core/registry/index.ts'
import { cWasm } from '../../fixtures/wasm/fixtures.ts'
import { openApp, until } from '../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../helpers/chromium.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'
import { screenshots } from './screens.ts'

const CONDITIONS = [{ conditionType: 'evmBasic', contractAddress: '', standardContractType: '', chain: 'ethereum', method: '', parameters: [':userAddress'], returnValueTest: { comparator: '=', value: '0x50e2dac5e78b5905cb09495547452cee64426db2' } }]

/** Publishes into a storage directory, as `shadw publish` does, before a super node opens it. */
async function publishInto (storage: string): Promise<string> {
  const store = new Corestore(storage)
  const registry = await Registry.create(store, createPublisherKeyPair())
  await registry.publish(cWasm('raw-upper'), {
    name: 'upper',
    version: '1.0.0',
    description: 'Upper-cases ASCII text',
    readme: '# upper\n\n<b>not bold</b>: a README is shown as text.\n',
    examples: [{ input: 'shout this', output: 'SHOUT THIS' }]
  })
  await registry.publish(cWasm('raw-upper'), { name: 'gated-upper', version: '2.0.0', access: CONDITIONS, description: 'The same, for one wallet' })
  const follows = await RegistryFollows.open(store)
  await follows.add(registry.key)
  await follows.close()
  await registry.close()
  await store.close()
  return registry.key
}

describe('the Functions view', () => {
  it('lists the node\'s catalogue, finds a function, opens it, and runs its example in one click', async () => {
    const storage = join(await tempDir('shadw-functions-view-'), 'storage')
    const publisher = await publishInto(storage)
    const superNode = await startSuperNode({ storage, workers: 1 })
    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), superNode.info.appUrl)
    await page.locator('#tab-functions').click()
    await until('the catalogue to list both functions', async () => (await page.locator('#fn-list li').count()) === 2)
    expect(await page.locator('#fn-list button').allTextContents()).toEqual(['gated-upper@2.0.0', 'upper@1.0.0'])

    await page.locator('#fn-search').fill('ascii')
    await until('the search to narrow the list', async () => (await page.locator('#fn-list li').count()) === 1)
    expect(await page.locator('#fn-status').textContent()).toBe('1 function')
    await page.locator('#fn-search').fill('no such words')
    await until('an empty result', async () => (await page.locator('#fn-status').textContent()) === 'No function matches “no such words”.')

    await page.locator('#fn-search').fill('wallet')
    await until('the gated function', async () => (await page.locator('#fn-list button').allTextContents()).join() === 'gated-upper@2.0.0')
    await page.locator('#fn-list button').first().click()
    await until('its conditions', async () => await page.locator('#fn-conditions').isVisible())
    expect(JSON.parse(await page.locator('#fn-conditions').textContent() ?? '')).toEqual(CONDITIONS)
    expect(await page.locator('#fn-access').textContent()).toBe('gated: 1 condition(s) on ethereum')

    await page.locator('#fn-search').fill('')
    await until('the whole list again', async () => (await page.locator('#fn-list li').count()) === 2)
    await page.locator('#fn-list button', { hasText: 'upper@1.0.0' }).filter({ hasNotText: 'gated' }).click()
    await until('the function to open', async () => (await page.locator('#fn-title').textContent()) === 'upper@1.0.0')
    expect(await page.locator('#fn-ref').textContent()).toBe(`${publisher}/upper@1.0.0`)
    expect(await page.locator('#fn-price').textContent()).toBe("executor's price")
    expect(await page.locator('#fn-access').textContent()).toBe('public')
    expect(await page.locator('#fn-examples dd').allTextContents()).toEqual(['shout this', 'SHOUT THIS'])
    // the README is text: its markup is not rendered
    expect(await page.locator('#fn-readme b').count()).toBe(0)
    expect(await page.locator('#fn-readme').textContent()).toContain('<b>not bold</b>')
    await screenshots(page, 'functions', 'functions')

    await page.locator('#fn-try').click()
    await until('the playground to show', async () => await page.evaluate(() => location.hash) === '#playground')
    expect(await page.locator('#inv-ref').inputValue()).toBe(`${publisher}/upper@1.0.0`)
    expect(await page.locator('#inv-input').inputValue()).toBe('shout this')
    await until('the example to run', async () => (await page.locator('#inv-output').textContent()) === 'SHOUT THIS', 60_000)
    expect(await page.locator('#inv-executor').textContent()).toBe(`${superNode.info.publicKey.slice(0, 8)}…${superNode.info.publicKey.slice(-6)}`)
    expect(await page.locator('.receipts > *').count()).toBe(1)

    // a function published from the playground: the tab announces its registry, the super
    // node's catalogue follows it, verifies the manifest, and the view finds it
    await page.locator('#pub-file').setInputFiles({ name: 'tab-upper.wasm', mimeType: 'application/wasm', buffer: Buffer.from(cWasm('raw-upper')) })
    await until('the picked module', async () => await page.locator('#pub-name').inputValue() === 'tab-upper')
    await page.locator('#pub-version').fill('0.1.0')
    await page.locator('#pub-description').fill('Published from a browser tab')
    await page.getByRole('button', { name: 'Publish' }).click()
    await until('the published ref', async () => await page.locator('#pub-ref').count() === 1, 60_000)
    const tabRef = await page.locator('#pub-ref').textContent()
    await page.locator('#tab-functions').click()
    await page.locator('#fn-search').fill('browser tab')
    await until('the tab\'s function in the catalogue', async () => {
      await page.locator('#fn-search').press('Enter')
      return (await page.locator('#fn-list button').allTextContents()).join() === 'tab-upper@0.1.0'
    }, 60_000, 1_000)
    expect(await page.locator('#fn-list button').getAttribute('data-ref')).toBe(tabRef)
    expect(superNode.catalogue?.stats()).toMatchObject({ publishers: 2, entries: 3, refused: 0 })
    await browser.close()
  }, 240_000)
})
