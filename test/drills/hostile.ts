/**
 * Drill: hostile load against a live `shadw start`, one attack class after another, each
 * bounded in time and on loopback; after each, a normal invocation and a relay client must
 * still work; at the end, a stop with hostile sockets held must finish and a restart on the
 * same storage must work. Resident size is measured under the memory attacks (the figures
 * in docs/security.md).
 *
 *   node --import tsx test/drills/hostile.ts
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import DHTRelay from '@hyperswarm/dht-relay'
import WebSocketStream from '@hyperswarm/dht-relay/ws'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import createTestnet from 'hyperdht/testnet'
import { WebSocket } from 'ws'
import { wat } from '../fixtures/wasm/fixtures.ts'
import { fnFrom } from '../helpers/fn-from.ts'
import { closedWithin, rawRequest, upgradeHead, wsFrameHeader, type RawAnswer } from '../helpers/raw-http.ts'
import { flood, relayExchange, relayPair } from '../helpers/relay-flood.ts'
import { Drill, eventually, within } from './drill.ts'
import { echoPublisher, fds, invoke, rssMiB, startLive, stopLive, type LiveNode } from './live-node.ts'

/** The node's default memory budget, MiB (DEFAULT_MEMORY_BUDGET_BYTES). */
const BUDGET_MIB = 256
/** RSS allowed above the idle node's and the budget: V8 and socket buffers, not request bytes. */
const RSS_SLACK_MIB = 160

const drill = new Drill('hostile load against a live super node')
const storage = await mkdtemp(join(tmpdir(), 'shadw-drill-hostile-'))
const net = await createTestnet(3, { host: '127.0.0.1' })
const bootstrap = net.bootstrap.map(b => `${b.host}:${b.port}`).join(',')
let code = 1

async function relayClient (node: LiveNode): Promise<boolean> {
  const socket = new WebSocket(node.appUrl.replace('http:', 'ws:') + 'relay')
  socket.on('error', () => {})
  const dht = new DHTRelay(new WebSocketStream(true, socket))
  try {
    await within(dht.ready(), 10_000, 'relay client ready')
    return true
  } catch {
    return false
  } finally {
    await within(dht.destroy({ force: true }), 5_000, 'relay client destroy').catch(() => {})
    socket.terminate()
  }
}

async function healthy (node: LiveNode, ref: string, after: string): Promise<void> {
  const r = await invoke(node, ref, `after ${after}`)
  drill.check(`after ${after}: a normal invocation works`, r.ok && r.output === `after ${after}`, r.ok ? `ledger index ${r.ledger.index}` : `${r.status} ${r.code}`)
  drill.check(`after ${after}: a relay client connects`, await relayClient(node))
}

async function batches (n: number, size: number, one: (i: number) => Promise<RawAnswer>): Promise<RawAnswer[]> {
  const out: RawAnswer[] = []
  for (let i = 0; i < n; i += size) out.push(...await Promise.all(Array.from({ length: Math.min(size, n - i) }, async (_, j) => await one(i + j))))
  return out
}

try {
  const node = await startLive(storage, ['--bootstrap', bootstrap])
  const pub = await echoPublisher(node, await wat('echo'))
  try {
    await healthy(node, pub.ref, 'start')
    const idleRss = rssMiB(node)
    drill.step(`idle node: RSS ${idleRss} MiB, ${fds(node)} descriptors`)

    // 1. upgrades on paths nobody serves, thousands, each client leaving at once
    const fdsBefore = fds(node)
    const paths = ['/nope', '/api/status', `/fn/${'ab'.repeat(32)}/x@1`, '/relay/', '/']
    const upgrades = await batches(2_000, 100, async (i) => { const a = await rawRequest(node.port, upgradeHead(paths[i % paths.length] ?? '/')); a.socket.destroy(); return a })
    drill.check('2,000 upgrades on other paths are each answered 404', upgrades.every(a => a.status === 404), `${upgrades.filter(a => a.status === 404).length} answered 404`)
    drill.check('their sockets are freed', await eventually(() => fds(node) <= fdsBefore + 8, 10_000), `descriptors ${fdsBefore} before, ${fds(node)} after`)
    await healthy(node, pub.ref, 'the upgrade flood')

    // 2. calls naming publishers nobody serves, more than the node has slots, each with a short
    // deadline: once their callers have their 504, nothing of them holds a slot
    const logsBefore = ((await (await fetch(new URL('/api/status', node.appUrl))).json()) as { logs: unknown[] }).logs.length
    const ghostAnswers = await Promise.all(Array.from({ length: 8 }, async () => await invoke(node, `${b4a.toString(crypto.randomBytes(32), 'hex')}/ghost@1.0.0`, 'x', 300)))
    drill.check('calls to made-up publishers fail typed', ghostAnswers.every(g => !g.ok && g.status >= 400), ghostAnswers.map(g => g.ok ? 'ok' : `${g.status} ${g.code}`).join(', '))
    const during = await invoke(node, pub.ref, 'right after the ghosts')
    drill.check('a normal call right after them runs (no BUSY while their lookups would still wait)', during.ok, during.ok ? '' : `${during.status} ${during.code}`)
    const logsAfter = async (): Promise<number> => ((await (await fetch(new URL('/api/status', node.appUrl))).json()) as { logs: unknown[] }).logs.length
    drill.check('made-up publishers leave no log behind', await eventually(async () => await logsAfter() === logsBefore, 10_000), `logs ${logsBefore} before, ${await logsAfter()} after`)
    await healthy(node, pub.ref, 'made-up publishers')

    // 2b. calls to made-up publishers still waiting out long deadlines: a normal call from
    // another HTTP client runs meanwhile (they hold no slot), and one client gets no more
    // than its share of the lookups
    const fnUrl = (r: string): string => new URL(`/fn/${r}`, node.appUrl).href
    const ghostRef = (): string => `${b4a.toString(crypto.randomBytes(32), 'hex')}/ghost@1.0.0`
    const waiting = Array.from({ length: 4 }, async () => await fnFrom(fnUrl(ghostRef()), 'x', '127.0.0.2', 5_000))
    await new Promise(resolve => setTimeout(resolve, 300))
    const meanwhile = await fnFrom(fnUrl(pub.ref), 'while ghosts wait', '127.0.0.3', 30_000)
    drill.check('a normal call runs while made-up publishers\' calls still wait', meanwhile.status === 200 && meanwhile.body === 'while ghosts wait', `${meanwhile.status} ${meanwhile.code ?? ''}`)
    const fifth = await fnFrom(fnUrl(ghostRef()), 'x', '127.0.0.2', 5_000)
    drill.check('one HTTP client is refused beyond its share of lookups (503 BUSY)', fifth.status === 503 && fifth.code === 'BUSY', `${fifth.status} ${fifth.code ?? ''}`)
    const waited = await Promise.all(waiting)
    drill.check('the waiting ghost calls end at their deadline', waited.every(w => w.status === 504), waited.map(w => w.status).join(', '))
    await healthy(node, pub.ref, 'waiting made-up publishers')

    // 3. unfinished /fn bodies: 150 connections each parking just under 4 MiB
    const body = Buffer.alloc(4 * 1024 * 1024 - 1, 120)
    const head = `POST /fn/${'ab'.repeat(32)}/x@1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${4 * 1024 * 1024}\r\n\r\n`
    let peakBodies = 0
    const parked = await batches(150, 25, async () => {
      const a = await rawRequest(node.port, head + body.toString('latin1'), 500)
      peakBodies = Math.max(peakBodies, rssMiB(node))
      return a
    })
    await new Promise(resolve => setTimeout(resolve, 500))
    peakBodies = Math.max(peakBodies, rssMiB(node))
    const memory = ((await (await fetch(new URL('/api/status', node.appUrl))).json()) as { memory: { used: number, refused: number } }).memory
    drill.step(`parked bodies: budget ${JSON.stringify(memory)}, answers ${JSON.stringify(parked.reduce<Record<string, number>>((m, a) => { m[String(a.status)] = (m[String(a.status)] ?? 0) + 1; return m }, {}))}`)
    // most refusals land after the client's short wait for an answer: the node's count says it
    drill.check('bodies beyond the budget are refused (503 MEMORY_BUDGET_EXCEEDED)', memory.refused > 0 && memory.used <= BUDGET_MIB * 1024 * 1024, `${memory.refused} chunks refused, ${Math.round(memory.used / 1024 / 1024)} MiB held`)
    drill.check('RSS under parked bodies stays within idle + budget + slack', peakBodies <= idleRss + BUDGET_MIB + RSS_SLACK_MIB, `peak ${peakBodies} MiB (idle ${idleRss} + budget ${BUDGET_MIB} + slack ${RSS_SLACK_MIB})`)
    for (const a of parked) a.socket.destroy()
    await healthy(node, pub.ref, 'parked bodies')

    // 4. relay sockets sending the start of a 16 MiB message before any handshake, 120 of them
    let peakRelay = 0
    const fragments = await batches(120, 20, async () => {
      const a = await rawRequest(node.port, upgradeHead('/relay'), 2_000)
      if (a.status === 101) {
        a.socket.write(wsFrameHeader(16 * 1024 * 1024, false))
        a.socket.write(Buffer.alloc(1024 * 1024))
      }
      peakRelay = Math.max(peakRelay, rssMiB(node))
      return a
    })
    const cut = await Promise.all(fragments.map(async a => await closedWithin(a.socket, 5_000)))
    peakRelay = Math.max(peakRelay, rssMiB(node))
    drill.check('relay clients sending a message before their handshake are closed', cut.every(Boolean), `${cut.filter(Boolean).length} of ${fragments.length} closed`)
    drill.check('RSS under pre-handshake fragments stays within idle + budget + slack', peakRelay <= idleRss + BUDGET_MIB + RSS_SLACK_MIB, `peak ${peakRelay} MiB`)
    for (const a of fragments) a.socket.destroy()
    await healthy(node, pub.ref, 'relay fragments')

    // 4b. after the handshake: a relay client holding both ends of a relayed connection stops
    // reading one and pushes 200 MiB into the other
    const relayUrl = node.appUrl.replace('http:', 'ws:') + 'relay'
    const rssBeforeFlood = rssMiB(node)
    let peakFlood = rssBeforeFlood
    const flooded = await flood(await relayPair(relayUrl, 15_000), 200 * 1024 * 1024, 15_000, () => { peakFlood = Math.max(peakFlood, rssMiB(node)) })
    const afterFlood = (await (await fetch(new URL('/api/status', node.appUrl))).json()) as { relay: { backlogged: number, paused: number, held: { toDht: number, toClients: number } }, memory: { used: number } }
    drill.step(`relay flood: pushed ${Math.round(flooded.pushed / 1024 / 1024)} MiB, at most ${Math.round(flooded.peakBetween / 1024 / 1024)} MiB between the ends, RSS ${rssBeforeFlood} -> peak ${peakFlood} MiB, relay ${JSON.stringify(afterFlood.relay)}`)
    drill.check('the relay client that does not read is closed', afterFlood.relay.backlogged >= 1 && flooded.serverClose !== 0, `close ${flooded.serverClose}, ${afterFlood.relay.backlogged} closed for not reading`)
    drill.check('what sits between the two ends stays far below the flood', flooded.peakBetween <= 96 * 1024 * 1024, `${Math.round(flooded.peakBetween / 1024 / 1024)} MiB of ${Math.round(flooded.pushed / 1024 / 1024)} MiB pushed`)
    drill.check('RSS under the relay flood stays within idle + budget + slack', peakFlood <= idleRss + BUDGET_MIB + RSS_SLACK_MIB, `peak ${peakFlood} MiB`)
    drill.check('the relay gives back what it held for them', await eventually(async () => {
      const r = ((await (await fetch(new URL('/api/status', node.appUrl))).json()) as { relay: { held: { toDht: number, toClients: number } } }).relay
      return r.held.toDht + r.held.toClients === 0
    }, 10_000))
    drill.check('a normal relayed pair still exchanges data', await relayExchange(relayUrl, 15_000).then(t => t === 'hello through the relay', () => false))
    await healthy(node, pub.ref, 'the relay flood')

    // 5. slowloris: 200 requests whose headers never end
    const slow = await batches(200, 50, async () => await rawRequest(node.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 50))
    await healthy(node, pub.ref, 'slowloris')

    // 6. methods and status codes
    const trace = await rawRequest(node.port, `TRACE /fn/${'ab'.repeat(32)}/x@1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
    trace.socket.destroy()
    const post = await fetch(new URL('/api/status', node.appUrl), { method: 'POST' })
    drill.check('TRACE /fn/* is 405, POST /api/status is 405 with Allow', trace.status === 405 && post.status === 405 && post.headers.get('allow') === 'GET, HEAD', `${trace.status}, ${post.status} ${post.headers.get('allow') ?? ''}`)
    await healthy(node, pub.ref, 'odd methods')

    drill.step(`RSS after the attacks: ${rssMiB(node)} MiB`)
    // 7. a stop while hostile sockets are held (the slowloris ones, plus an upgrade and a relay socket that never reads)
    const hold = [await rawRequest(node.port, upgradeHead('/nope'), 200), await rawRequest(node.port, upgradeHead('/relay'), 2_000)]
    hold[1]?.socket.pause()
    const stopped = await stopLive(node, 30_000)
    drill.check('SIGTERM ends the node while hostile sockets are open', stopped === 0, `exit ${String(stopped)}`)
    for (const a of [...slow, ...hold]) a.socket.destroy()
    const again = await startLive(storage, ['--bootstrap', bootstrap])
    drill.check('a restart on the same storage works (the lock was released)', again.stderr() === '')
    await healthy(again, pub.ref, 'the restart')
    drill.check('the restarted node stops cleanly', await stopLive(again, 30_000) === 0)
  } finally {
    await pub.close()
  }
  code = drill.finish()
} catch (err) {
  drill.check('the drill ran to its end', false, err instanceof Error ? err.stack ?? err.message : String(err))
  code = drill.finish()
} finally {
  await net.destroy()
  await rm(storage, { recursive: true, force: true })
}
process.exit(code)
