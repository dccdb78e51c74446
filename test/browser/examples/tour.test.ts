/**
 * The README's tour, step by step, in Chromium: start on empty storage (the examples are
 * published), open the app (a node of its own), try an example from the Functions view,
 * publish your own with the CLI while the node is stopped and start it again, and call it
 * from examples/page served on an origin of your own.
 */
import { execFile } from 'node:child_process'
import { mkdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { EXAMPLES_ROOT, publishExamples } from '../../../src/cli/examples-publish.ts'
import { nodeReady, openApp, until } from '../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../helpers/chromium.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'

const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))

function shadw (env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

/** examples/page/index.html on an origin of its own. */
async function servePage (): Promise<string> {
  const html = await readFile(join(EXAMPLES_ROOT, 'page', 'index.html'))
  const server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end(html) })
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  onTestFinished(async () => { await new Promise(resolve => { server.close(resolve) }) })
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

describe('the README\'s tour', () => {
  it('start, open, try an example, publish your own, invoke it from a page of your own origin', { timeout: 300_000 }, async () => {
    const home = await tempDir('shadw-user-')
    const env = { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') }
    // 1. start: the default storage of this user, empty, so the examples are published
    const storage = join(home, 'data', 'shadw', 'super-node')
    await mkdir(storage, { recursive: true })
    const published = await publishExamples(storage)
    const first = await startSuperNode({ storage, workers: 1 })
    const browser = await launchChromium()

    // 2. open: the page is a node of its own, its key on the first view
    const app = await openApp(await newContext(browser), first.info.appUrl)
    await nodeReady(app)
    const state = app.locator('#node-state')
    await until('the status line', async () => await state.getAttribute('data-public-key') !== null, 60_000)
    expect(await state.getAttribute('data-public-key')).toMatch(/^[0-9a-f]{64}$/)
    expect(await state.getAttribute('data-public-key')).not.toBe(first.info.publicKey)

    // 3. try an example: the Functions view lists sha256; Try it runs its example
    const sha = published.refs.find(r => r.example.name === 'sha256')
    if (sha === undefined) throw new Error('no sha256 example')
    await app.goto(`${first.info.appUrl}#functions`)
    const card = app.locator('.fn-card', { has: app.locator(`[data-ref="${sha.ref}"]`) })
    await until('the catalogue to list sha256', async () => await card.count() === 1, 60_000)
    await card.locator(`[data-ref="${sha.ref}"]`).click()
    await app.locator('#fn-try').click()
    await until('the output', async () => await app.locator('#inv-output').count() === 1 || await app.locator('#inv-result.error').count() === 1, 60_000)
    expect(await app.locator('#inv-output').textContent()).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824')
    expect(await app.locator('#inv-result .receipt').getAttribute('data-verified')).toBe('true')

    // 4. publish your own: the node stopped, the README's two commands, the node started again
    await first.stop()
    expect((await shadw(env, 'keys', 'create')).code).toBe(0)
    const published4 = await shadw(env, 'publish', 'examples/rot13/rot13.wasm', '--name', 'my-rot13', '--version', '1.0.0', '--abi', 'raw')
    expect([published4.code, published4.stderr]).toEqual([0, ''])
    const own = /^published ([0-9a-f]{64})\/my-rot13@1\.0\.0$/m.exec(published4.stdout)?.[1] as string
    expect(own).toMatch(/^[0-9a-f]{64}$/)
    const again = await startSuperNode({ storage, workers: 1 })

    // 5. a page of your own origin: ?fn= names the function, Call fetches /fn across origins
    const pageUrl = await servePage()
    expect(new URL(pageUrl).origin).not.toBe(new URL(again.info.appUrl).origin)
    const page = await (await newContext(browser)).newPage()
    await page.goto(`${pageUrl}?fn=${own}/my-rot13@1`)
    expect(await page.inputValue('#fn')).toBe(`${own}/my-rot13@1`)
    await page.fill('#node', again.info.appUrl.replace(/\/$/, ''))
    await page.click('button[type=submit]')
    await page.waitForFunction(() => document.getElementById('output')?.textContent !== 'calling…', null, { timeout: 60_000 })
    expect(await page.textContent('#output')).toBe('uryyb')
    expect(await page.textContent('#receipts')).toContain(`executor ${again.info.publicKey}\n`)
  })
})
