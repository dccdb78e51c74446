/**
 * Drills with a real browser node (the app in headless Chromium, persistent profile so OPFS
 * survives reloads) against a real super node:
 * 1. relay restarted: `stopRelay()/startRelay()` while the tab follows a log; the tab sees the
 *    drop, re-dials on its own and replicates what was written while it was cut off;
 * 2. tab reloaded mid-replication: a 3,000-block download is cut by `page.reload()`; the new
 *    node worker reopens the log from OPFS, keeps what was stored, finishes the download, and
 *    every block checked reads back as written.
 *
 *   node --import tsx test/drills/browser.ts
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import { chromium, type BrowserContext } from 'playwright-core'
import { SuperNode } from '../../src/super-node/super-node.ts'
import { call, getText, nodeReady, openApp, until } from '../helpers/app-page.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium-flags.ts'
import { Drill, within } from './drill.ts'

/** Bound on the tab's first connection to the super node through the relay (see bench/replication.ts). */
const FIRST_PEER_MS = 90_000
/** Bound on the tab re-dialling the relay (backoff 250 ms doubling to 5 s). */
const REDIAL_MS = 30_000
/** Bound on a download through the relay. */
const DOWNLOAD_MS = 60_000
/** Blocks of the log the reload cuts into. */
const RELOAD_BLOCKS = 3_000
/** Bound on each teardown step. */
const TEARDOWN_MS = 15_000

const drill = new Drill('browser tab: relay restarted, tab reloaded mid-replication')
const storage = await mkdtemp(join(tmpdir(), 'shadw-drill-browser-'))
const profile = await mkdtemp(join(tmpdir(), 'shadw-drill-profile-'))
let superNode: SuperNode | null = null
let context: BrowserContext | null = null
let code = 1
try {
  superNode = await SuperNode.start({ storage, appRoot: fileURLToPath(new URL('../../dist', import.meta.url)), port: 0, workers: 0 })
  const sn = superNode
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 })
  const page = await openApp(context, sn.info.appUrl)

  // 1. relay restart
  const log = await sn.node.createLog('drill-relay')
  await sn.node.append(log.key, Array.from({ length: 10 }, (_, i) => b4a.from(`block ${i}`)))
  await call(page, 'follow', { key: log.key })
  // the bridge caps one call at 60 s, so the first connection is waited for in rounds
  const first = await until('the first block through the relay', async () => await getText(page, log.key, 9, { timeout: 20_000 }).catch(() => null) === 'block 9', FIRST_PEER_MS, 0).then(() => true, () => false)
  drill.check('the tab replicates through the relay before the fault', first)
  await sn.stopRelay()
  const dropped = await until('the tab to notice', async () => (await call(page, 'status', {})).relay.state !== 'connected', 10_000).then(() => true, () => false)
  drill.check('the tab sees the relay drop', dropped)
  const length = await sn.node.append(log.key, Array.from({ length: 10 }, (_, i) => b4a.from(`block ${10 + i}`)))
  drill.check('the super node keeps appending while its relay is down', length === 20)
  await sn.startRelay()
  const back = await until('the tab to re-dial', async () => {
    const s = await call(page, 'status', {})
    return s.relay.state === 'connected' && s.peers.some(p => p.publicKey === sn.info.publicKey) ? s : null
  }, REDIAL_MS, 250).catch(() => null)
  drill.check('the tab re-dials the restarted relay on its own and reaches the super node', back !== null, `reconnects ${back?.relay.reconnects ?? '?'}`)
  const seen = await call(page, 'waitForLength', { key: log.key, length: 20, timeout: 20_000 }, 30_000).catch(() => ({ length: 0 }))
  drill.check('the tab learns the blocks written while it was cut off', seen.length === 20, `length ${seen.length}`)
  drill.check('and replicates them exactly as written', await getText(page, log.key, 19, { timeout: 20_000 }) === 'block 19')

  // 2. reload mid-replication
  const big = await sn.node.createLog('drill-reload')
  const text = (i: number): string => `block ${i} `.padEnd(1024, '#')
  for (let i = 0; i < RELOAD_BLOCKS; i += 500) await sn.node.append(big.key, Array.from({ length: 500 }, (_, j) => b4a.from(text(i + j))))
  await call(page, 'follow', { key: big.key })
  await call(page, 'waitForLength', { key: big.key, length: RELOAD_BLOCKS, timeout: 20_000 }, 30_000)
  // the download is left running; the reload cuts it (its promise dies with the page)
  void page.evaluate(async ([k, n, t]) => {
    const shadw = (window as unknown as { shadw: { call (m: string, p: unknown, t: number): Promise<unknown> } }).shadw
    await shadw.call('download', { key: k, start: 0, end: n, timeout: t }, t + 5_000).catch(() => {})
  }, [big.key, RELOAD_BLOCKS, DOWNLOAD_MS] as const).catch(() => {})
  await new Promise(resolve => setTimeout(resolve, 1_500))
  await page.reload()
  await nodeReady(page)
  drill.step('reloaded the tab 1.5 s into a 3,000-block download')
  await call(page, 'follow', { key: big.key })
  const result = await call(page, 'download', { key: big.key, start: 0, end: RELOAD_BLOCKS, timeout: DOWNLOAD_MS }, DOWNLOAD_MS + 10_000).catch((err: Error) => err)
  const ok = !(result instanceof Error) && result.blocks === RELOAD_BLOCKS
  drill.check('after the reload the node finishes the download', ok, result instanceof Error ? result.message.slice(0, 200) : `${result.fetched} of ${result.blocks} blocks fetched after the reload`)
  if (!(result instanceof Error)) drill.check('blocks stored before the reload were kept (OPFS), not fetched again', result.fetched < RELOAD_BLOCKS, `${RELOAD_BLOCKS - result.fetched} kept`)
  let same = 0
  const sample = [0, 1, 499, 500, 1234, 1999, 2500, RELOAD_BLOCKS - 1]
  for (const i of sample) if (await getText(page, big.key, i, { wait: false }) === text(i)) same++
  drill.check('every sampled block reads back exactly as written', same === sample.length, `${same}/${sample.length}`)
  code = drill.finish()
} catch (err) {
  drill.check('drill ran to the end', false, (err as Error).message.slice(0, 300))
  code = drill.finish()
} finally {
  if (context !== null) await within(context.close(), TEARDOWN_MS, 'browser close').catch(() => {})
  if (superNode !== null) await within(superNode.stop(), TEARDOWN_MS, 'super node stop').catch(() => {})
  await rm(storage, { recursive: true, force: true })
  await rm(profile, { recursive: true, force: true })
}
process.exit(code)
