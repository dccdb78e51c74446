import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { EXAMPLES_ROOT, publishExamples } from '../../../src/cli/examples-publish.ts'
import { nodeReady, openApp, until } from '../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../helpers/chromium.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'

/** examples/page/index.html on an origin of its own (another port than the super node's). */
async function servePage (): Promise<string> {
  const html = await readFile(join(EXAMPLES_ROOT, 'page', 'index.html'))
  const server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end(html) })
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  onTestFinished(async () => { await new Promise(resolve => { server.close(resolve) }) })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

describe('examples/page, a page of another origin', () => {
  it('calls each text example on a super node with examples published on first start and shows its documented output', { timeout: 120_000 }, async () => {
    const storage = await tempDir()
    const published = await publishExamples(storage)
    const node = await startSuperNode({ storage, workers: 1 })
    const pageUrl = await servePage()
    expect(new URL(pageUrl).origin).not.toBe(new URL(node.info.appUrl).origin)

    const page = await (await newContext(await launchChromium())).newPage()
    await page.goto(pageUrl)
    await page.fill('#node', node.info.appUrl.replace(/\/$/, ''))
    const text = published.refs.filter(r => r.example.name !== 'png-grayscale')
    expect(text.map(r => r.example.name)).toEqual(['json-canonical', 'markdown', 'rot13', 'sha256', 'word-count'])
    for (const { example, ref } of text) {
      await page.fill('#fn', ref)
      await page.fill('#input', new TextDecoder().decode(example.input))
      await page.click('button[type=submit]')
      await page.waitForFunction(() => document.getElementById('output')?.textContent !== 'calling…', null, { timeout: 60_000 })
      expect({ name: example.name, output: await page.textContent('#output') }).toEqual({ name: example.name, output: new TextDecoder().decode(example.output) })
      expect(await page.textContent('#receipts')).toContain(`executor ${node.info.publicKey}\n`)
    }
  })

  it('tour step 3: the app\'s Playground invokes an example published on first start and checks its receipt', { timeout: 120_000 }, async () => {
    const storage = await tempDir()
    const published = await publishExamples(storage)
    const node = await startSuperNode({ storage, workers: 1 })
    const sha = published.refs.find(r => r.example.name === 'sha256')
    if (sha === undefined) throw new Error('no sha256 example')
    const page = await openApp(await newContext(await launchChromium()), `${node.info.appUrl}#playground`)
    await nodeReady(page)
    await page.locator('#inv-ref').fill(`${published.publisher}/sha256@1`)
    await page.locator('#inv-input').fill(new TextDecoder().decode(sha.example.input))
    await page.getByRole('button', { name: 'Invoke' }).click()
    await until('the output', async () => await page.locator('#inv-output').count() === 1 || await page.locator('#inv-result.error').count() === 1, 60_000)
    expect(await page.locator('#inv-result.error').count()).toBe(0)
    expect(await page.locator('#inv-output').textContent()).toBe(new TextDecoder().decode(sha.example.output))
    expect(await page.locator('#inv-result .receipt').getAttribute('data-verified')).toBe('true')
  })
})
