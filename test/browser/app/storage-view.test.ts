import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { call, openApp, until } from '../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../helpers/chromium.ts'
import { provingNode } from '../../helpers/holders.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'
import { screenshots } from './screens.ts'

/** Spans two of the page's 4 MiB upload chunks and several of the bridge's 1 MiB read windows. */
const BIG = 5 * 1024 * 1024 + 777

function bigFile (): Buffer {
  const b = Buffer.alloc(BIG)
  for (let i = 0; i + 4 <= BIG; i += 4) b.writeUInt32LE(i ^ 0x5a5a5a5a, i)
  return b
}

/** Fetches a same-origin URL in the page: status and the SHA-256 of the body. */
async function fetchInPage (page: import('playwright-core').Page, url: string): Promise<{ status: number, via: string | null, length: number, sha: string, text: string }> {
  return await page.evaluate(async (u) => {
    const res = await fetch(u)
    const body = await res.arrayBuffer()
    const sha = [...new Uint8Array(await crypto.subtle.digest('SHA-256', body))].map(x => x.toString(16).padStart(2, '0')).join('')
    return { status: res.status, via: res.headers.get('x-shadw-served-by'), length: body.byteLength, sha, text: body.byteLength < 1000 ? new TextDecoder().decode(body) : '' }
  }, url)
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex')

describe('the Storage view', () => {
  it('creates a drive, uploads a folder with progress, lists it, opens a file by its link, pins it on three holders and lists them with their proofs', async () => {
    // every holder challenges its co-holders about every half second: proofs show up soon after the pin
    const superNode = await startSuperNode({ workers: 0, proofIntervalMs: 500 })
    const net = { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet
    const storms = await Promise.all([0, 1].map(async () => await provingNode(net, { meanMs: 500 })))

    const dir = await tempDir()
    const site = join(dir, 'site')
    await mkdir(join(site, 'media', 'raw'), { recursive: true })
    const big = bigFile()
    const files: Record<string, Buffer | string> = {
      'index.html': '<h1>hello from a browser drive</h1>',
      'notes.txt': 'several files, one folder',
      'media/big.bin': big,
      'media/raw/data.json': JSON.stringify({ ok: true })
    }
    for (const [p, body] of Object.entries(files)) await writeFile(join(site, p), body)

    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), `${superNode.info.appUrl}#storage`)
    await page.evaluate(async () => { await navigator.serviceWorker.ready })
    await until('the service worker to control the page', async () => await page.evaluate(() => navigator.serviceWorker.controller !== null))

    await page.locator('#drive-label').fill('site')
    await page.locator('#drive-create').click()
    const key = await until('the drive to be created', async () => await page.locator('#drive-created').getAttribute('data-key'))
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    expect(await page.locator('#my-drives li[data-key]').count()).toBe(1)
    expect(await page.locator('#drive-chosen').textContent()).toContain(key)
    // the drive is this browser's: listed by its node, its keys never shown
    expect((await call(page, 'drives', {})).drives).toMatchObject([{ key, label: 'site', encrypted: false }])

    await page.locator('#upload-folder').setInputFiles(site)
    const version = await until('the upload to finish', async () => await page.locator('#upload-state').getAttribute('data-version'), 60_000)
    // one version per file written (and the drive's header before the first)
    const v = Number(version)
    expect(v).toBeGreaterThanOrEqual(4)
    const total = Object.values(files).reduce((s, b) => s + Buffer.byteLength(b), 0)
    expect(await page.locator('#upload-progress').evaluate(p => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max])).toEqual([total, total])
    expect(await page.locator('#upload-state').textContent()).toMatch(/^Uploaded 4 files/)

    // the browse panel opened the drive at its latest version: the folder keeps its name and structure
    await until('the root listing', async () => (await page.locator('#drive-where').textContent()) === `${key} · version ${v} · /`)
    await page.locator('#drive-entries button', { hasText: 'site/' }).click()
    await until('the folder listing', async () => (await page.locator('#drive-where').textContent()) === `${key} · version ${v} · /site`)
    expect(await page.locator('#drive-entries a').allTextContents()).toEqual(['index.html', 'notes.txt'])
    expect(await page.locator('#drive-entries button.linkish', { hasText: '/' }).allTextContents()).toEqual(['../', 'media/'])

    // each file opens by its versioned link, through this origin's service worker and node
    const href = await page.locator('#drive-entries a', { hasText: 'index.html' }).getAttribute('href')
    expect(href).toBe(`/drive/${key}@${v}/site/index.html`)
    const html = await fetchInPage(page, href!)
    expect(html).toMatchObject({ status: 200, via: 'browser-node', text: files['index.html'] })
    await page.locator('#drive-entries button', { hasText: 'media/' }).click()
    await until('the media listing', async () => (await page.locator('#drive-entries a').allTextContents()).join() === 'big.bin')
    const bigRead = await fetchInPage(page, (await page.locator('#drive-entries a').getAttribute('href'))!)
    expect(bigRead).toMatchObject({ status: 200, length: BIG, sha: sha(big) })
    // an older version is still there, one step back
    await page.locator('#drive-older').click()
    await until('the version before', async () => (await page.locator('#drive-where').textContent()) === `${key} · version ${v - 1} · /site/media`)

    // the latest link on this origin, copied
    await page.locator('#drive-version').fill('')
    await page.locator('#drive-open').click()
    await until('the root listing again', async () => (await page.locator('#drive-where').textContent()) === `${key} · version ${v} · /`)
    await page.locator('#drive-entries button', { hasText: 'site/' }).click()
    await until('the folder listing again', async () => (await page.locator('#drive-entries a').count()) === 2)
    await page.locator('#drive-entries tr', { hasText: 'notes.txt' }).locator('button', { hasText: 'copy link' }).click()
    expect(await page.locator('#drive-link').inputValue()).toBe(`${new URL(superNode.info.appUrl).origin}/drive/${key}/site/notes.txt`)

    // pinned on three holders: the super node and two storm nodes, each confirms, signed
    await page.locator('#pin-replicas').fill('3')
    await page.locator('#pin-submit').click()
    await until('the pin to be confirmed', async () => (await page.locator('#pin-state').textContent())?.startsWith('Pinned') === true || (await page.locator('#pin-state').getAttribute('data-code')), 120_000)
    expect(await page.locator('#pin-state').getAttribute('data-code')).toBeNull()
    expect(await page.locator('#pin-state').textContent()).toMatch(/on 3 holders, each confirmed and signed/)
    const expected = [superNode.node.publicKey, ...storms.map(s => s.node.publicKey)].sort()
    const shown = await until('the holders to be listed', async () => {
      const keys = await page.locator('#drive-holders tr[data-holder]').evaluateAll(rows => rows.map(r => r.getAttribute('data-holder')))
      return keys.length === 3 ? keys : null
    }, 30_000)
    expect(shown.sort()).toEqual(expected)
    expect(await page.locator('#drive-health').getAttribute('data-health')).toBe('healthy')
    expect(await page.locator('#drive-holders td', { hasText: 'live' }).count()).toBe(3)

    // each holder's last proof, as its co-holders judged it: asked again until every holder shows
    // one. Honest holders pass: their blob blocks fit a proof answer (the page's 4 MiB upload
    // chunks are cut to 64 KiB blocks), and their channels stay open
    const refresh = page.locator('#pin-refresh')
    const shownProofs = await until('a proof verdict for every holder', async () => {
      if (await refresh.isDisabled()) return null
      const cells = await page.locator('#drive-holders tr[data-holder]').evaluateAll(rows => rows.map(r => ({ holder: r.getAttribute('data-holder') ?? '', proof: r.querySelector('[data-proof]')?.getAttribute('data-proof'), text: r.querySelector('[data-proof]')?.textContent ?? '', failed: r.hasAttribute('data-failed') })))
      if (cells.length === 3 && cells.every(c => c.proof === 'passed' || c.proof === 'failed')) return cells
      await refresh.click()
      return null
    }, 90_000, 500)
    expect(shownProofs.map(c => c.holder).sort()).toEqual(expected)
    for (const c of shownProofs) {
      expect(c.text).toMatch(/^✓ passed \d+ s ago$/)
      expect(c.failed).toBe(false)
    }
    expect(await page.locator('#drive-health').getAttribute('data-health')).toBe('healthy')
    // the bridge's answer under the view: only the drive's holders judge, each another holder
    const status = await call(page, 'driveStatus', { key: key! }, 30_000)
    expect(status.proofs.map(p => p.holder).sort()).toEqual(expected)
    for (const p of status.proofs) {
      expect(expected).toContain(p.last.challenger)
      expect(p.last.challenger).not.toBe(p.holder)
      expect(p.challengers).toBeGreaterThanOrEqual(1)
      expect(p.challengers).toBeLessThanOrEqual(2)
      expect(p.failing).toBe(0)
      expect(p.last.ok).toBe(true)
    }
    // no holder's storage ledger holds a failure: every challenge of an honest holder passed
    for (const h of [superNode.proofs!, ...storms.map(s => s.proofs)]) {
      await h.settled()
      expect(h.book.verdicts(key!).filter(v => !v.ok)).toEqual([])
    }
    await screenshots(page, 'storage', 'storage')

    // the holders hold the bytes: a storm node reads the big file with the tab gone
    await page.close()
    const { Drive } = await import('../../../src/core/drive/index.ts')
    const reader = await Drive.open(storms[0]!.node, key!)
    const chunks: Uint8Array[] = []
    for await (const c of reader.read('/site/media/big.bin')) chunks.push(c)
    expect(sha(Buffer.concat(chunks))).toBe(sha(big))
    await reader.close()
  }, 300_000)

  it('an encrypted drive reads back by link in its own browser; bad input is refused with typed errors', async () => {
    const superNode = await startSuperNode({ workers: 0 })
    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), `${superNode.info.appUrl}#storage`)

    await page.locator('#drive-encrypt').check()
    await page.locator('#drive-create').click()
    const key = await until('the drive to be created', async () => await page.locator('#drive-created').getAttribute('data-key'))
    expect((await call(page, 'drives', {})).drives).toMatchObject([{ key, encrypted: true }])

    await page.locator('#upload-to').fill('/secret')
    await page.locator('#upload-files').setInputFiles({ name: 'plan.txt', mimeType: 'text/plain', buffer: Buffer.from('for my eyes') })
    await until('the upload to finish', async () => await page.locator('#upload-state').getAttribute('data-version'))
    const bytes = await page.evaluate(async (k) => {
      const shadw = (window as unknown as { shadw: { call (m: string, p: unknown): Promise<{ status: number, body: Uint8Array | null }> } }).shadw
      const r = await shadw.call('driveFetch', { url: `/drive/${k}/secret/plan.txt`, method: 'GET' })
      return { status: r.status, text: new TextDecoder().decode(r.body ?? new Uint8Array()) }
    }, key)
    expect(bytes).toEqual({ status: 200, text: 'for my eyes' })

    // pinned on the super node, which holds ciphertext only: its own /drive cannot read it
    await until('the tab to meet the super node', async () => (await call(page, 'status', {})).peers.some(p => p.publicKey === superNode.node.publicKey), 30_000)
    const pinned = await call(page, 'drivePin', { key: key!, replicas: 1, timeout: 60_000 }, 90_000)
    expect(pinned.confirmations.map(c => c.holder)).toEqual([superNode.node.publicKey])
    const res = await fetch(new URL(`/drive/${key!}/secret/plan.txt`, superNode.info.appUrl))
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ code: 'DRIVE_LOCKED' })

    // a folder name the drive refuses fails before a byte moves; a drive not ours cannot be written
    await page.locator('#upload-to').fill('/a\u0000b')
    await page.locator('#upload-files').setInputFiles({ name: 'x.txt', mimeType: 'text/plain', buffer: Buffer.from('x') })
    await until('the refusal', async () => await page.locator('#upload-state').getAttribute('data-code'))
    expect(await page.locator('#upload-state').getAttribute('data-code')).toBe('DRIVE_PATH_INVALID')
    await expect(call(page, 'driveUploadStart', { key: 'ab'.repeat(32), path: '/x' })).rejects.toThrow(/not owned by this browser/)
    await expect(call(page, 'drivePin', { key: key!, replicas: 99 })).rejects.toThrow(/INVALID_ARGUMENT/)
    await expect(call(page, 'driveUploadChunk', { upload: 'nope', chunk: new Uint8Array(1) })).rejects.toThrow(/INVALID_ARGUMENT/)
  }, 120_000)
})
