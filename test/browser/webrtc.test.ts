import { describe, expect, it } from 'vitest'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { launchChromium, newContext } from '../helpers/chromium.ts'
import { appendText, call, getText, openApp, until } from '../helpers/app-page.ts'
import { startSuperNode } from '../helpers/super-node.ts'
import type { LinkHostStats } from '../../src/app/webrtc/link-host.ts'

/**
 * Chromium offers no host candidates on loopback unless the page may use media devices
 * (and `--allow-loopback-in-peer-connection`, in CHROMIUM_ARGS): without them ICE has nothing
 * to pair and a link cannot open.
 */
async function webrtcContext (browser: Browser, origin: string): Promise<BrowserContext> {
  const context = await newContext(browser)
  await context.grantPermissions(['camera', 'microphone'], { origin })
  return context
}

async function linkStats (page: Page): Promise<LinkHostStats | null> {
  return await page.evaluate(() => (window as unknown as { shadwLinks: { stats (): LinkHostStats | null } }).shadwLinks.stats())
}

async function transportTo (page: Page, publicKey: string): Promise<string[]> {
  const s = await call(page, 'status', {})
  return s.peers.filter(p => p.publicKey === publicKey).map(p => p.transport).sort()
}

/** Two browser processes, each one node, both on the super node's relay. */
async function twoBrowsers (appUrl: string, query = ''): Promise<{ a: Page, b: Page, aKey: string, bKey: string }> {
  const origin = new URL(appUrl).origin
  const [ba, bb] = await Promise.all([launchChromium(), launchChromium()])
  const a = await openApp(await webrtcContext(ba, origin), appUrl + query)
  const b = await openApp(await webrtcContext(bb, origin), appUrl + query)
  const aKey = (await call(a, 'status', {})).publicKey
  const bKey = (await call(b, 'status', {})).publicKey
  return { a, b, aKey, bKey }
}

describe('direct WebRTC links between browser nodes', () => {
  it('opens a direct link over swarm signalling and lists the peer with transport webrtc', async () => {
    const superNode = await startSuperNode()
    const { a, b, aKey, bKey } = await twoBrowsers(superNode.info.appUrl)

    await until('a webrtc peer on both sides', async () => {
      const [ta, tb] = await Promise.all([transportTo(a, bKey), transportTo(b, aKey)])
      return ta.includes('webrtc') && tb.includes('webrtc')
    }, 30_000, 250)
    // the relayed connection stays as signalling path and fallback
    expect(await transportTo(a, bKey)).toEqual(['relay', 'webrtc'])
    expect(await transportTo(b, aKey)).toEqual(['relay', 'webrtc'])
    const [sa, sb] = await Promise.all([linkStats(a), linkStats(b)])
    expect(sa).toMatchObject({ connected: 1, live: 1, errors: {} })
    expect(sb).toMatchObject({ connected: 1, live: 1, errors: {} })
  })
})
