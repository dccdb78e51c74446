import { createHash } from 'node:crypto'
import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { Drive } from '../../../src/core/drive/index.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { openApp, until } from '../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../helpers/chromium.ts'
import { startSuperNode } from '../../helpers/super-node.ts'
import { testNode } from '../../helpers/testnet.ts'

/** Spans several of the bridge's 1 MiB windows. */
const BIG = 3 * 1024 * 1024 + 12_345

describe('/drive/* through the service worker', () => {
  it('a same-origin page reads a drive from its own browser node: whole files window by window, ranges, HEAD, ETags, typed errors and a folder\'s index.html', async () => {
    const superNode = await startSuperNode({ workers: 0 })
    const writer = await testNode({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet, { tier: 'light' })
    const { drive } = await Drive.create(writer)
    const big = Buffer.alloc(BIG)
    for (let i = 0; i + 4 <= BIG; i += 4) big.writeUInt32LE(i, i)
    await drive.put('/big.bin', [big.subarray(0, 1_000_000), big.subarray(1_000_000)])
    await drive.put('/hello.txt', [b4a.from('hello from a drive')])

    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), superNode.info.appUrl)
    await page.evaluate(async () => { await navigator.serviceWorker.ready })
    await until('the service worker to control the page', async () => await page.evaluate(() => navigator.serviceWorker.controller !== null))

    const result = await page.evaluate(async (key) => {
      const hex = (b: ArrayBuffer): Promise<string> => crypto.subtle.digest('SHA-256', b).then(d => [...new Uint8Array(d)].map(x => x.toString(16).padStart(2, '0')).join(''))
      const whole = await fetch(`/drive/${key}/big.bin`)
      const wholeBody = await whole.arrayBuffer()
      const part = await fetch(`/drive/${key}/big.bin`, { headers: { range: 'bytes=1048570-1048589' } })
      const partBody = [...new Uint8Array(await part.arrayBuffer())]
      const text = await fetch(`/drive/${key}/hello.txt`)
      const etag = text.headers.get('etag') ?? ''
      const again = await fetch(`/drive/${key}/hello.txt`, { headers: { 'if-none-match': etag } })
      const head = await fetch(`/drive/${key}/big.bin`, { method: 'HEAD' })
      const missing = await fetch(`/drive/${key}/nope`)
      const bad = await fetch(`/drive/${key}/a%2f..%2fb`)
      return {
        whole: { status: whole.status, via: whole.headers.get('x-shadw-served-by'), type: whole.headers.get('content-type'), length: wholeBody.byteLength, sha: await hex(wholeBody) },
        part: { status: part.status, range: part.headers.get('content-range'), body: partBody },
        text: { status: text.status, via: text.headers.get('x-shadw-served-by'), body: await text.text(), etag },
        again: again.status,
        head: { status: head.status, length: head.headers.get('content-length'), via: head.headers.get('x-shadw-served-by') },
        missing: { status: missing.status, body: await missing.json() as { code: string } },
        bad: { status: bad.status, body: await bad.json() as { code: string } }
      }
    }, drive.key)

    expect(result.whole).toEqual({ status: 200, via: 'browser-node', type: 'application/octet-stream', length: BIG, sha: createHash('sha256').update(big).digest('hex') })
    expect(result.part).toEqual({ status: 206, range: `bytes 1048570-1048589/${BIG}`, body: [...big.subarray(1_048_570, 1_048_590)] })
    expect(result.text).toMatchObject({ status: 200, via: 'browser-node', body: 'hello from a drive' })
    expect(result.again).toBe(304)
    expect(result.head).toEqual({ status: 200, length: String(BIG), via: 'browser-node' })
    expect(result.missing).toMatchObject({ status: 404, body: { code: 'DRIVE_NOT_FOUND' } })
    expect(result.bad).toMatchObject({ status: 400, body: { code: 'DRIVE_PATH_INVALID' } })

    // the Storage view browses the same drive and links each file at its version
    await page.evaluate(() => { location.hash = 'storage' })
    await page.locator('#drive-key').fill(drive.key)
    await page.locator('#drive-open').click()
    await until('the drive listing', async () => (await page.locator('#drive-entries a').count()) === 2)
    expect(await page.locator('#drive-entries a').allTextContents()).toEqual(['big.bin', 'hello.txt'])
    expect(await page.locator('#drive-entries a').first().getAttribute('href')).toBe(`/drive/${drive.key}@${drive.version}/big.bin`)
    expect(await page.locator('#drive-where').textContent()).toBe(`${drive.key} · version ${drive.version} · /`)

    // a site: a folder answers with its index.html, across windows, and its bare name moves
    const { drive: site } = await Drive.create(writer)
    const html = Buffer.alloc(1_500_000, 'x')
    html.write('<!doctype html><title>site</title>')
    await site.put('/docs/index.html', [html.subarray(0, 700_000), html.subarray(700_000)])
    await site.put('/docs/a.txt', [b4a.from('a')])
    const served = await page.evaluate(async (key) => {
      const folder = await fetch(`/drive/${key}/docs/`)
      const body = await folder.text()
      const bare = await fetch(`/drive/${key}/docs`)
      const listed = await fetch(`/drive/${key}/docs/?list`)
      return {
        folder: { status: folder.status, via: folder.headers.get('x-shadw-served-by'), type: folder.headers.get('content-type'), length: body.length, start: body.slice(0, 15) },
        bare: { status: bare.status, url: new URL(bare.url).pathname, redirected: bare.redirected, length: (await bare.text()).length },
        listed: (await listed.json() as { entries: Array<{ path: string }> }).entries.map(e => e.path)
      }
    }, site.key)
    expect(served.folder).toEqual({ status: 200, via: 'browser-node', type: 'text/html; charset=utf-8', length: 1_500_000, start: '<!doctype html>' })
    expect(served.bare).toEqual({ status: 200, url: `/drive/${site.key}/docs/`, redirected: true, length: 1_500_000 })
    expect(served.listed).toEqual(['/docs/a.txt', '/docs/index.html'])
    await site.close()
    await drive.close()
  }, 180_000)
})
