import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { launchChromium, newContext } from '../../helpers/chromium.ts'
import { appendText, call, getText, nodeReady, openApp, until } from '../../helpers/app-page.ts'
import { startSuperNode } from '../../helpers/super-node.ts'

describe('browser node against a real super node', () => {
  it('joins the swarm through the relay and reaches the super node', async () => {
    const superNode = await startSuperNode()
    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), superNode.info.appUrl)

    const status = await until('a peer connection to the super node', async () => {
      const s = await call(page, 'status', {})
      return s.peers.some(p => p.publicKey === superNode.info.publicKey) ? s : null
    })

    expect(status.relay).toEqual({ url: superNode.info.relayUrl, state: 'connected', reconnects: 0 })
    expect(status.storage).toBe('opfs')
    expect(status.tier).toBe('shadow')
    expect(status.publicKey).toMatch(/^[0-9a-f]{64}$/)
    expect(status.peers.find(p => p.publicKey === superNode.info.publicKey)?.transport).toBe('relay')
    await until('the super node to see the browser', async () => superNode.status().peers.some(p => p.publicKey === status.publicKey))
    expect(superNode.status().relay.clients).toBe(1)
  })

  it('replicates a super node log into the browser: sparse, verified, live', async () => {
    const superNode = await startSuperNode()
    const log = await superNode.node.createLog('announcements')
    await superNode.node.append(log.key, ['zero', 'one', 'two'].map(s => b4a.from(s)))

    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), superNode.info.appUrl)
    expect(await call(page, 'follow', { key: log.key })).toMatchObject({ key: log.key, writable: false, name: null })
    expect(await getText(page, log.key, 2)).toBe('two')
    // sparse: only the block asked for was downloaded
    expect(await call(page, 'has', { key: log.key, index: 2 })).toEqual({ has: true })
    expect(await call(page, 'has', { key: log.key, index: 0 })).toEqual({ has: false })

    await superNode.node.append(log.key, [b4a.from('three')])
    expect(await call(page, 'waitForLength', { key: log.key, length: 4, timeout: 20_000 })).toEqual({ length: 4 })
    expect(await getText(page, log.key, 3)).toBe('three')
  })

  it('replicates a browser log into the super node and into another browser', async () => {
    const superNode = await startSuperNode()
    const browser = await launchChromium()
    // two contexts are two separate profiles: two origins' worth of storage, two nodes
    const writerPage = await openApp(await newContext(browser), superNode.info.appUrl)
    const readerPage = await openApp(await newContext(browser), superNode.info.appUrl)
    const writer = await call(writerPage, 'status', {})
    const reader = await call(readerPage, 'status', {})
    expect(writer.publicKey).not.toBe(reader.publicKey)

    const log = await call(writerPage, 'createLog', { name: 'notes' })
    expect(log).toMatchObject({ name: 'notes', writable: true, length: 0 })
    expect(await appendText(writerPage, log.key, ['a', 'b'])).toBe(2)

    await superNode.node.follow(log.key)
    expect(b4a.toString((await superNode.node.get(log.key, 1, { timeout: 20_000 }))!)).toBe('b')

    await call(readerPage, 'follow', { key: log.key })
    expect(await getText(readerPage, log.key, 0)).toBe('a')
    expect(await appendText(writerPage, log.key, ['c'])).toBe(3)
    expect(await call(readerPage, 'waitForLength', { key: log.key, length: 3, timeout: 20_000 })).toEqual({ length: 3 })
    expect(await getText(readerPage, log.key, 2)).toBe('c')
  })

  it('keeps logs and blocks across a page reload (OPFS)', async () => {
    const superNode = await startSuperNode()
    const upstream = await superNode.node.createLog('upstream')
    await superNode.node.append(upstream.key, [b4a.from('fetched once')])
    const browser = await launchChromium()
    const context = await newContext(browser)
    const page = await openApp(context, superNode.info.appUrl)
    const before = await call(page, 'status', {})
    const own = await call(page, 'createLog', { name: 'mine' })
    await appendText(page, own.key, ['kept-0', 'kept-1'])
    await call(page, 'follow', { key: upstream.key })
    expect(await getText(page, upstream.key, 0)).toBe('fetched once')

    await page.reload()
    const after = await nodeReady(page)
    expect(after.publicKey).toBe(before.publicKey)
    expect(after.logs.map(l => [l.key, l.name, l.length]).sort()).toEqual([[own.key, 'mine', 2], [upstream.key, null, 1]].sort())
    // served from local storage, no peer asked
    expect(await getText(page, own.key, 1, { wait: false })).toBe('kept-1')
    expect(await getText(page, upstream.key, 0, { wait: false })).toBe('fetched once')
  })

  it('runs one node per origin: a second tab attaches, and takes over when the leader closes', async () => {
    const superNode = await startSuperNode()
    const browser = await launchChromium()
    const context = await newContext(browser)
    const first = await openApp(context, superNode.info.appUrl)
    const second = await openApp(context, superNode.info.appUrl)
    const roles = async (): Promise<string[]> => await Promise.all([first, second].map(p => p.evaluate(() => (window as unknown as { shadw: { role: string } }).shadw.role)))
    expect(await roles()).toEqual(['leader', 'follower'])
    const a = await call(first, 'status', {})
    const b = await call(second, 'status', {})
    expect(b.publicKey).toBe(a.publicKey)
    expect(b.leader).toBe(a.leader)
    const log = await call(second, 'createLog', { name: 'shared' })
    await appendText(second, log.key, ['written by the follower tab'])

    await first.close()
    const taken = await until('the second tab to host the node', async () => {
      const s = await nodeReady(second)
      return s.leader !== a.leader ? s : null
    }, 30_000, 250)
    expect(await second.evaluate(() => (window as unknown as { shadw: { role: string } }).shadw.role)).toBe('leader')
    expect(taken.publicKey).toBe(a.publicKey)
    expect(await getText(second, log.key, 0, { wait: false })).toBe('written by the follower tab')
  })

  it('relay survives a browser that vanishes while serving a stream, and others keep working', async () => {
    const superNode = await startSuperNode()
    const browser = await launchChromium()
    const doomedContext = await newContext(browser)
    const doomed = await openApp(doomedContext, superNode.info.appUrl)
    const survivor = await openApp(await newContext(browser), superNode.info.appUrl)

    // the doomed browser serves a log (it announced as a server through the relay) and the
    // super node is mid-download when the browser disappears without a goodbye
    const log = await call(doomed, 'createLog', { name: 'big' })
    const chunk = 'x'.repeat(64 * 1024)
    for (let i = 0; i < 4; i++) await appendText(doomed, log.key, Array.from({ length: 16 }, () => chunk))
    await superNode.node.follow(log.key)
    expect(b4a.toString((await superNode.node.get(log.key, 0, { timeout: 20_000 }))!).length).toBe(chunk.length)
    const pending = Promise.allSettled(Array.from({ length: 63 }, (_, i) => superNode.node.get(log.key, i + 1, { timeout: 5_000 })))
    await doomedContext.close()
    await pending

    const clientsLeft = await until('the relay to drop the vanished browser', async () => superNode.status().relay.clients === 1 ? 1 : null)
    expect(clientsLeft).toBe(1)
    // the process is alive and the other browser still replicates through the relay
    const fresh = await superNode.node.createLog('after-drop')
    await superNode.node.append(fresh.key, [b4a.from('still here')])
    await call(survivor, 'follow', { key: fresh.key })
    expect(await getText(survivor, fresh.key, 0)).toBe('still here')
  })

  it('re-dials the relay after it restarts and keeps replicating', async () => {
    const superNode = await startSuperNode()
    const log = await superNode.node.createLog('through-restarts')
    await superNode.node.append(log.key, [b4a.from('before')])
    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), superNode.info.appUrl)
    await call(page, 'follow', { key: log.key })
    expect(await getText(page, log.key, 0)).toBe('before')

    await superNode.stopRelay()
    await until('the browser to notice the relay is gone', async () => (await call(page, 'status', {})).relay.state !== 'connected')
    await superNode.node.append(log.key, [b4a.from('while down')])
    await superNode.startRelay()

    const status = await until('the browser to re-dial the relay', async () => {
      const s = await call(page, 'status', {})
      return s.relay.state === 'connected' && s.peers.some(p => p.publicKey === superNode.info.publicKey) ? s : null
    }, 30_000, 250)
    expect(status.relay.reconnects).toBeGreaterThanOrEqual(1)
    expect(await call(page, 'waitForLength', { key: log.key, length: 2, timeout: 20_000 })).toEqual({ length: 2 })
    expect(await getText(page, log.key, 1)).toBe('while down')
  })

  it('loads the app shell from the service worker with the server down', async () => {
    const superNode = await startSuperNode()
    const browser = await launchChromium()
    const context = await newContext(browser)
    const page = await openApp(context, superNode.info.appUrl)
    await page.evaluate(async () => { await navigator.serviceWorker.ready })
    await until('the service worker to control the page', async () => await page.evaluate(() => navigator.serviceWorker.controller !== null))

    await superNode.stop()
    await page.reload()
    expect(await page.locator('h1').textContent()).toBe('shadw')
    expect(await page.evaluate(() => typeof (window as unknown as { shadw?: unknown }).shadw)).toBe('object')
    const manifest = await page.evaluate(async () => await (await fetch('/manifest.webmanifest')).json() as { short_name: string })
    expect(manifest.short_name).toBe('shadw')
  })

  it('routes page messages through the service worker to the node worker', async () => {
    const superNode = await startSuperNode()
    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), superNode.info.appUrl)
    await until('the service worker to control the page', async () => await page.evaluate(() => navigator.serviceWorker.controller !== null))
    const reply = await page.evaluate(async () => await new Promise<{ ok: boolean, result?: { publicKey: string }, error?: { code: string } }>(resolve => {
      navigator.serviceWorker.addEventListener('message', ev => { resolve(ev.data) }, { once: true })
      navigator.serviceWorker.controller?.postMessage({ type: 'shadw-node-call', id: 'probe', method: 'status', params: {} })
    }))
    const status = await call(page, 'status', {})
    expect(reply.ok).toBe(true)
    expect(reply.result?.publicKey).toBe(status.publicKey)
    const bad = await page.evaluate(async () => await new Promise<{ ok: boolean, error?: { code: string } }>(resolve => {
      navigator.serviceWorker.addEventListener('message', ev => { resolve(ev.data) }, { once: true })
      navigator.serviceWorker.controller?.postMessage({ type: 'shadw-node-call', id: 'bad', method: 'dropDatabase', params: {} })
    }))
    expect(bad).toMatchObject({ ok: false, error: { code: 'BRIDGE_PROTOCOL' } })
  })

  it('refuses bad input from pages with typed errors', async () => {
    const superNode = await startSuperNode()
    const browser = await launchChromium()
    const context = await newContext(browser)
    const page = await openApp(context, superNode.info.appUrl)
    const codeOf = async (method: string, params: unknown): Promise<string> => await page.evaluate(async ([m, p]) => {
      try {
        await (window as unknown as { shadw: { call (m: string, p: unknown): Promise<unknown> } }).shadw.call(m, p)
        return 'no error'
      } catch (err) {
        return (err as { code: string }).code
      }
    }, [method, params] as const)
    expect(await codeOf('follow', { key: 'zz' })).toBe('INVALID_LOG_KEY')
    expect(await codeOf('get', { key: 'ab'.repeat(32), index: 0 })).toBe('LOG_NOT_FOUND')
    expect(await codeOf('append', { key: 'ab'.repeat(32), blocks: 'nope' })).toBe('INVALID_ARGUMENT')
    expect(await codeOf('get', { key: 'ab'.repeat(32), index: -1 })).toBe('INVALID_ARGUMENT')

    const badRelay = await context.newPage()
    await badRelay.goto(`${superNode.info.appUrl}?relay=${encodeURIComponent('http://not-a-relay')}`)
    expect(await badRelay.locator('#app').textContent()).toBe('INVALID_RELAY_URL: relay URL must be ws:// or wss://, got "http://not-a-relay"')
  })
})
