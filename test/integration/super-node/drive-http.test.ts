import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { Drive } from '../../../src/core/drive/index.ts'
import { listDrive, readDriveFile } from '../../../src/core/gateway/client.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { startSuperNode } from '../../helpers/super-node.ts'
import { testNode } from '../../helpers/testnet.ts'

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) % 256)
/** Byte-for-byte, quickly: a deep equality over 300,000 elements can idle the connection past its keep-alive. */
const same = (a: ArrayBuffer, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))

describe('GET /drive/<key>/<path> on a super node', () => {
  it('serves a drive from the swarm: versions, ranges, ETags, HEAD, listings and typed errors', async () => {
    const superNode = await startSuperNode({ workers: 0 })
    const writer = await testNode({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet, { tier: 'light' })
    const { drive } = await Drive.create(writer)
    const v1 = await drive.put('/site/index.html', [b4a.from('<h1>one</h1>')])
    const video = pattern(300_000)
    await drive.put('/media/clip.mp4', [video.subarray(0, 100_000), video.subarray(100_000)])
    await drive.put('/site/index.html', [b4a.from('<h1>two</h1>')])
    const base = new URL(`/drive/${drive.key}`, superNode.info.appUrl).href

    const page = await fetch(`${base}/site/index.html`)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(page.headers.get('cache-control')).toBe('no-cache')
    expect(page.headers.get('access-control-allow-origin')).toBe('*')
    expect(await page.text()).toBe('<h1>two</h1>')
    const etag = page.headers.get('etag') as string
    expect(etag).toMatch(/^"[0-9a-f]{16}-\d+"$/)
    expect((await fetch(`${base}/site/index.html`, { headers: { 'if-none-match': etag } })).status).toBe(304)

    // every version stays addressable, both ways, and is immutable
    for (const url of [`${base}@${v1.version}/site/index.html`, `${base}/site/index.html?version=${v1.version}`]) {
      const old = await fetch(url)
      expect(await old.text()).toBe('<h1>one</h1>')
      expect(old.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
      expect(old.headers.get('etag')).not.toBe(etag)
    }

    // ranges, as a video element asks for them
    const part = await fetch(`${base}/media/clip.mp4`, { headers: { range: 'bytes=99990-100009' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe('bytes 99990-100009/300000')
    expect(part.headers.get('content-type')).toBe('video/mp4')
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(video.subarray(99_990, 100_010))
    const tail = await fetch(`${base}/media/clip.mp4`, { headers: { range: 'bytes=-5' } })
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(video.subarray(299_995))
    const open = await fetch(`${base}/media/clip.mp4`, { headers: { range: 'bytes=299000-' } })
    expect(open.headers.get('content-length')).toBe('1000')
    await open.arrayBuffer()
    const beyond = await fetch(`${base}/media/clip.mp4`, { headers: { range: 'bytes=300000-' } })
    expect(beyond.status).toBe(416)
    expect(beyond.headers.get('content-range')).toBe('bytes */300000')
    expect(await beyond.json()).toMatchObject({ code: 'DRIVE_RANGE_INVALID' })
    const whole = await fetch(`${base}/media/clip.mp4`)
    expect(same(await whole.arrayBuffer(), video)).toBe(true)

    const head = await fetch(`${base}/media/clip.mp4`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe('300000')
    expect(head.headers.get('accept-ranges')).toBe('bytes')
    expect(await head.text()).toBe('')

    const listing = await fetch(`${base}/`)
    expect(await listing.json()).toMatchObject({ key: drive.key, version: drive.version, dir: '/', entries: [{ path: '/media', kind: 'dir' }, { path: '/site', kind: 'dir' }] })

    // typed errors, each with its status
    const cases: Array<[string, RequestInit, number, string]> = [
      [`${base}/nope.txt`, {}, 404, 'DRIVE_NOT_FOUND'],
      [`${base}@999/site/index.html`, {}, 404, 'DRIVE_NOT_FOUND'],
      [new URL('/drive/not-a-key/x', superNode.info.appUrl).href, {}, 400, 'INVALID_DRIVE_REF'],
      [`${base}/site/%2e%2e%2f%2e%2e%2fetc%2fpasswd`, {}, 400, 'DRIVE_PATH_INVALID'],
      [`${base}/bad%ZZ`, {}, 400, 'DRIVE_PATH_INVALID'],
      [`${base}/${'a'.repeat(9000)}`, {}, 400, 'DRIVE_PATH_INVALID'],
      [`${base}@1/x?version=2`, {}, 400, 'INVALID_DRIVE_REF']
    ]
    for (const [url, init, status, code] of cases) {
      const res = await fetch(url, init)
      expect([url.slice(0, 120), res.status]).toEqual([url.slice(0, 120), status])
      expect(await res.json()).toMatchObject({ code })
    }
    expect((await fetch(`${base}/site/index.html`, { method: 'DELETE' })).status).toBe(405)

    // the SDK reads the same from any page
    const url = superNode.info.appUrl
    expect(await (await readDriveFile(drive.key, 'site/index.html', { url })).text()).toBe('<h1>two</h1>')
    expect(await (await readDriveFile(drive.key, '/site/index.html', { url, version: v1.version })).text()).toBe('<h1>one</h1>')
    const slice = await readDriveFile(drive.key, '/media/clip.mp4', { url, range: { start: 10, end: 19 } })
    expect(slice.status).toBe(206)
    expect(new Uint8Array(await slice.arrayBuffer())).toEqual(video.subarray(10, 20))
    expect((await listDrive(drive.key, '/site', { url })).entries.map(e => e.path)).toEqual(['/site/index.html'])
    await expect(readDriveFile(drive.key, '/missing', { url })).rejects.toMatchObject({ code: 'DRIVE_NOT_FOUND' })
    await expect(readDriveFile(drive.key, '/../x', { url })).rejects.toMatchObject({ code: 'DRIVE_PATH_INVALID' })
    await expect(listDrive('nope', '/', { url })).rejects.toMatchObject({ code: 'INVALID_DRIVE_REF' })
    await drive.close()
  }, 120_000)

  it('serves a site: a folder (and the root) answers with its index.html, ?list still lists', async () => {
    const superNode = await startSuperNode({ workers: 0 })
    const writer = await testNode({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet, { tier: 'light' })
    const { drive } = await Drive.create(writer)
    const v1 = await drive.put('/index.html', [b4a.from('<h1>home one</h1>')])
    await drive.put('/index.html', [b4a.from('<h1>home</h1>')])
    const page = pattern(200_000)
    await drive.put('/blog/index.html', [page])
    await drive.put('/blog/post.txt', [b4a.from('a post')])
    await drive.put('/docs/readme.md', [b4a.from('# no index here')])
    const base = new URL(`/drive/${drive.key}`, superNode.info.appUrl).href

    const root = await fetch(`${base}/`)
    expect(root.status).toBe(200)
    expect(root.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(root.headers.get('cache-control')).toBe('no-cache')
    expect(await root.text()).toBe('<h1>home</h1>')
    const etag = root.headers.get('etag') as string
    expect(etag).toMatch(/^"[0-9a-f]{16}-\d+"$/)
    expect((await fetch(`${base}/`, { headers: { 'if-none-match': etag } })).status).toBe(304)
    // the same ETag as the file by its own name: one file, one version
    expect((await fetch(`${base}/index.html`)).headers.get('etag')).toBe(etag)

    // a folder's page with ranges, HEAD and its own ETag; the next write elsewhere keeps it
    const blog = await fetch(`${base}/blog/`)
    expect(blog.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(same(await blog.arrayBuffer(), page)).toBe(true)
    const part = await fetch(`${base}/blog/`, { headers: { range: 'bytes=100000-100099' } })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe('bytes 100000-100099/200000')
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(page.subarray(100_000, 100_100))
    expect((await fetch(`${base}/blog/`, { headers: { range: 'bytes=200000-' } })).status).toBe(416)
    const head = await fetch(`${base}/blog/`, { method: 'HEAD' })
    expect(head.headers.get('content-length')).toBe('200000')
    const blogTag = head.headers.get('etag')
    await drive.put('/docs/more.md', [b4a.from('more')])
    expect((await fetch(`${base}/blog/`, { method: 'HEAD' })).headers.get('etag')).toBe(blogTag)

    // a folder named without its slash, the drive's root too, is sent to the name with it
    for (const [from, to] of [[`${base}/blog`, `/drive/${drive.key}/blog/`], [base, `/drive/${drive.key}/`], [`${base}@${v1.version}`, `/drive/${drive.key}@${v1.version}/`]]) {
      const moved = await fetch(from as string, { redirect: 'manual' })
      expect([from, moved.status, moved.headers.get('location')]).toEqual([from, 301, to])
    }
    expect(await (await fetch(`${base}/blog`)).arrayBuffer().then(b => same(b, page))).toBe(true)

    // every version of the site stays addressable and immutable
    const old = await fetch(`${base}@${v1.version}/`)
    expect(await old.text()).toBe('<h1>home one</h1>')
    expect(old.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(old.headers.get('etag')).not.toBe(etag)

    // ?list lists a folder that has a page; a folder without one lists as before
    const listed = await fetch(`${base}/blog/?list`)
    expect(listed.headers.get('content-type')).toBe('application/json')
    expect((await listed.json() as { entries: Array<{ path: string }> }).entries.map(e => e.path)).toEqual(['/blog/index.html', '/blog/post.txt'])
    expect(await (await fetch(`${base}/docs/`)).json()).toMatchObject({ dir: '/docs', entries: [{ path: '/docs/more.md' }, { path: '/docs/readme.md' }] })
    expect((await fetch(`${base}/docs`)).status).toBe(404)
    expect((await fetch(`${base}/nothing/`)).status).toBe(404)
    const url = superNode.info.appUrl
    expect((await listDrive(drive.key, '/', { url })).entries.map(e => e.path)).toEqual(['/blog', '/docs', '/index.html'])
    await drive.close()
  }, 120_000)
})
