import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { EXAMPLES_ROOT, publishExamples } from '../../../src/cli/examples-publish.ts'
import { parseReceiptJson, verifyReceipt } from '../../../src/core/ledger/index.ts'
import { nodeReady, openApp, until } from '../../helpers/app-page.ts'
import { serveTestPage } from '../../helpers/test-page.ts'
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
    expect(text.map(r => r.example.name)).toEqual(['base64', 'json-canonical', 'markdown', 'rot13', 'sha256', 'tree-count', 'word-count'])
    for (const { example, ref } of text) {
      await page.fill('#fn', ref)
      await page.fill('#input', new TextDecoder().decode(example.input))
      await page.click('button[type=submit]')
      await page.waitForFunction(() => document.getElementById('output')?.textContent !== 'calling…', null, { timeout: 60_000 })
      expect({ name: example.name, output: await page.textContent('#output') }).toEqual({ name: example.name, output: new TextDecoder().decode(example.output) })
      expect(await page.textContent('#receipts')).toContain(`executor ${node.info.publicKey}\n`)
    }
  })

  it('tour step 3: the app\'s Functions view lists the examples with their descriptions, and Try it runs one with its example and checks its receipt', { timeout: 120_000 }, async () => {
    const storage = await tempDir()
    const published = await publishExamples(storage)
    const node = await startSuperNode({ storage, workers: 1 })
    const sha = published.refs.find(r => r.example.name === 'sha256')
    if (sha === undefined) throw new Error('no sha256 example')
    const page = await openApp(await newContext(await launchChromium()), `${node.info.appUrl}#functions`)
    await nodeReady(page)
    const card = page.locator('.fn-card', { has: page.locator(`[data-ref="${sha.ref}"]`) })
    await until('the catalogue to list sha256', async () => await card.count() === 1, 60_000)
    expect(await card.locator('p.wrap').textContent()).toBe(sha.example.description)
    await card.locator(`[data-ref="${sha.ref}"]`).click()
    await page.locator('#fn-try').click()
    await until('the output', async () => await page.locator('#inv-output').count() === 1 || await page.locator('#inv-result.error').count() === 1, 60_000)
    expect(await page.locator('#inv-result.error').count()).toBe(0)
    expect(await page.locator('#inv-ref').inputValue()).toBe(sha.ref)
    expect(await page.locator('#inv-output').textContent()).toBe(new TextDecoder().decode(sha.example.output))
    expect(await page.locator('#inv-result .receipt').getAttribute('data-verified')).toBe('true')
  })

  it('the SDK client (shadw/client), bundled into a page of another origin, invokes each text example and verifies its receipts', { timeout: 180_000 }, async () => {
    const storage = await tempDir()
    const published = await publishExamples(storage)
    const node = await startSuperNode({ storage, workers: 1 })
    const pageUrl = await serveTestPage('test/browser/examples/sdk-page/page.html')
    expect(new URL(pageUrl).origin).not.toBe(new URL(node.info.appUrl).origin)

    const page = await (await newContext(await launchChromium())).newPage()
    await page.goto(pageUrl)
    await page.waitForFunction(() => document.title === 'ready', null, { timeout: 30_000 })
    const text = published.refs.filter(r => r.example.docs.examples !== undefined)
    expect(text.map(r => r.example.name)).toEqual(['base64', 'json-canonical', 'markdown', 'rot13', 'sha256', 'tree-count', 'word-count'])
    const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')
    for (const { example, ref } of text) {
      const input = new TextDecoder().decode(example.input)
      type Answer = { output: string, receipts: unknown[] } | { error: string }
      const answer = await page.evaluate(async ([url, fn, body]) => await (window as unknown as { sdkInvoke: (u: string, f: string, i: string) => Promise<Answer> }).sdkInvoke(url, fn, body), [node.info.appUrl, ref, input] as const)
      expect({ name: example.name, output: 'output' in answer ? answer.output : answer.error }).toEqual({ name: example.name, output: new TextDecoder().decode(example.output) })
      // the page's SDK checked them; checked again here, each naming this call's bytes and executor
      const receipts = ('receipts' in answer ? answer.receipts : []).map(r => verifyReceipt(parseReceiptJson(r)))
      expect(receipts.map(r => ({ executor: r.executor, inputHash: r.inputHash, outputHash: r.outputHash }))).toEqual([{ executor: node.info.publicKey, inputHash: sha(example.input), outputHash: sha(example.output) }])
    }
  })
})
