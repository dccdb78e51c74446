import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { Drive, driveHandler, driveOpener, driveReply, type DriveReply } from '../../../../src/core/drive/index.ts'
import { testNode, testnet } from '../../../helpers/testnet.ts'

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) % 256)

/** Follows a reply window by window, as the service worker does; at most `max` windows. */
async function whole (handler: (req: Request) => Promise<Response>, first: DriveReply, window: number, max: number): Promise<Uint8Array> {
  const parts = [first.body ?? new Uint8Array(0)]
  let next = first.next
  for (let i = 0; next !== null; i++) {
    if (i >= max) throw new Error(`more than ${max} windows`)
    const w = await driveReply(handler, { url: next.url, method: 'GET', range: `bytes=${next.start}-${next.last}` }, window)
    expect(w.status).toBe(206)
    parts.push(w.body ?? new Uint8Array(0))
    next = w.next
  }
  return b4a.concat(parts)
}

/** Bound on the server hearing of a write: asks of its drive, 20 ms apart. */
const HEAR_ASKS = 250

/** Waits until the server's copy of drive `key` knows `version`; bounded in asks. */
async function heardOf (open: ReturnType<typeof driveOpener>['open'], key: string, version: number): Promise<void> {
  const served = await open(key)
  for (let i = 0; i < HEAR_ASKS && await served.update() < version; i++) await new Promise(resolve => setTimeout(resolve, 20))
  expect(served.version).toBe(version)
}

describe('driveReply: /drive/* in windows, as the service worker asks for it', () => {
  it('a folder\'s index.html crosses window by window at one version; ?list and folders without a page list', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const server = await testNode(net)
    const { drive } = await Drive.create(writer)
    const page = pattern(300_000)
    await drive.put('/site/index.html', [0, 1, 2, 3, 4].map(i => page.subarray(i * 60_000, (i + 1) * 60_000)))
    await drive.put('/site/about.txt', [b4a.from('about')])
    await drive.put('/empty/readme.txt', [b4a.from('none')])
    const drives = driveOpener(server)
    try {
      const handler = driveHandler(drives.open)
      const first = await driveReply(handler, { url: `/drive/${drive.key}/site/`, method: 'GET' }, 100_000)
      expect(first.status).toBe(200)
      expect(first.headers['content-type']).toBe('text/html; charset=utf-8')
      expect(first.body?.byteLength).toBeGreaterThanOrEqual(100_000)
      // the rest is asked for by the page's own name, at the version the first window read
      expect(first.next?.url).toBe(`/drive/${drive.key}@${drive.version}/site/index.html`)
      // a write after the first window does not change the bytes that follow it
      await drive.put('/site/index.html', [b4a.from('<p>new</p>')])
      // the server hears of the write from the writer's next sync message: update() answers
      // from what peers have announced, so a "latest" read may still precede it. Wait for it
      // here, so the windows below are read at the old version while a newer one is known.
      await heardOf(drives.open, drive.key, drive.version)
      expect(b4a.equals(await whole(handler, first, 100_000, 20), page)).toBe(true)

      const ranged = await driveReply(handler, { url: `/drive/${drive.key}/site/`, method: 'GET', range: 'bytes=0-3' }, 100_000)
      expect(ranged.status).toBe(206)
      expect(b4a.toString(ranged.body as Uint8Array)).toBe('<p>n')
      const listed = await driveReply(handler, { url: `/drive/${drive.key}/site/?list`, method: 'GET' }, 100_000)
      expect(JSON.parse(b4a.toString(listed.body as Uint8Array))).toMatchObject({ dir: '/site', entries: [{ path: '/site/about.txt' }, { path: '/site/index.html' }] })
      const plain = await driveReply(handler, { url: `/drive/${drive.key}/empty/`, method: 'GET' }, 100_000)
      expect(JSON.parse(b4a.toString(plain.body as Uint8Array))).toMatchObject({ dir: '/empty', entries: [{ path: '/empty/readme.txt' }] })
      const moved = await driveReply(handler, { url: `/drive/${drive.key}/site`, method: 'GET' }, 100_000)
      expect([moved.status, moved.headers['location']]).toEqual([301, `/drive/${drive.key}/site/`])
    } finally {
      await drives.close()
      await drive.close()
    }
  })

  it('a listing larger than one window crosses window by window, each asking for the listing again at one version', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const server = await testNode(net)
    const { drive } = await Drive.create(writer)
    const names = Array.from({ length: 120 }, (_, i) => `/big/${String(i).padStart(3, '0')}-${'long-name-'.repeat(6)}.txt`)
    for (const name of names) await drive.put(name, [b4a.from(name)])
    await drive.put('/big/index.html', [b4a.from('<p>site</p>')])
    const drives = driveOpener(server)
    try {
      const handler = driveHandler(drives.open)
      const first = await driveReply(handler, { url: `/drive/${drive.key}/big/?list`, method: 'GET' }, 4096)
      expect(first.status).toBe(200)
      expect(first.body?.byteLength).toBe(4096)
      // the next window names the listing (not the folder's index.html) at the version read
      expect(first.next?.url).toBe(`/drive/${drive.key}@${drive.version}/big/?list`)
      await drive.put('/big/zzz-later.txt', [b4a.from('later')])
      const listing = JSON.parse(b4a.toString(await whole(handler, first, 4096, 50))) as { entries: Array<{ path: string }> }
      expect(listing.entries.map(e => e.path)).toEqual([...names, '/big/index.html'].sort())
    } finally {
      await drives.close()
      await drive.close()
    }
  })
})
