/**
 * The executor role as a contributor tab runs it (src/core/roles/executor-role.ts in the node
 * worker, with the browser's Web Worker pool and OPFS): what the super node's copy of the role
 * did and the tab's did not, shown in real Chromium against executors, light nodes and
 * publishers on the super node's DHT.
 */
import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import type { Page } from 'playwright-core'
import { describe, expect, it, onTestFinished } from 'vitest'
import { decodeMiss, encodeAttestation, LedgerAnnouncer, readLedger, signAttestation, verifyMiss } from '../../../../src/core/ledger/index.ts'
import { RECOMPUTE_DELAY_MS } from '../../../../src/core/reputation/reputation-tracker.ts'
import { parseBootstrap } from '../../../../src/super-node/super-node.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { call, openApp, until } from '../../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../../helpers/chromium.ts'
import { announcingExecutor, callerNode, executorNode, FaultyExecutor, keyedNode, publisher, sharedExecutor } from '../../../helpers/invoke.ts'
import { startSuperNode } from '../../../helpers/super-node.ts'

/** A call's deadline: far above a relayed round trip, well below the test's own bound. */
const DEADLINE_MS = 8_000
/** Calls a tab makes to show it no longer picks an executor. */
const AVOIDING_CALLS = 8

/** A super node that executes nothing, and its DHT as a testnet for the helpers' Node nodes. */
async function swarm (): Promise<{ superNode: Awaited<ReturnType<typeof startSuperNode>>, net: Testnet }> {
  const superNode = await startSuperNode({ workers: 0 })
  return { superNode, net: { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet }
}

/** Waits until the tab's router knows `keys` as executors. */
async function knows (page: Page, keys: string[]): Promise<void> {
  await until(`the tab to hear ${keys.length} executor(s)`, async () => {
    const { executors } = await call(page, 'contribution', {})
    return keys.every(k => executors.some(e => e.key === k && e.total > 0))
  }, 60_000, 250)
}

/** The round trip the tab's router measured to each executor it knows, ms. */
async function roundTrips (page: Page): Promise<Map<string, number>> {
  const { executors } = await call(page, 'contribution', {})
  return new Map(executors.flatMap(e => e.rtt === null ? [] : [[e.key, e.rtt] as const]))
}

/** True when the tab holds block `index` of `key` (false when it holds nothing of that log). */
async function holds (page: Page, key: string, index: number): Promise<boolean> {
  const { logs } = await call(page, 'status', {})
  if (!logs.some(l => l.key === key)) return false
  return (await call(page, 'has', { key, index })).has
}

/** Invokes from the tab's page with a UTF-8 input; the output as text and who signed each receipt. */
async function invoke (page: Page, ref: string, input: string, opts: { redundancy?: number, quorum?: number }): Promise<{ output: string, executors: string[] }> {
  return await page.evaluate(async ([r, text, o, deadline]) => {
    const shadw = (window as unknown as { shadw: { call (m: string, p: unknown, t: number): Promise<{ output: Uint8Array, receipts: Array<{ executor: string }> }> } }).shadw
    const answer = await shadw.call('invoke', { ref: r, input: new TextEncoder().encode(text), deadline, ...o }, deadline + 20_000)
    return { output: new TextDecoder().decode(answer.output), executors: answer.receipts.map(x => x.executor) }
  }, [ref, input, opts, DEADLINE_MS] as const)
}

/** Block `index` of `key` at the tab, as bytes. */
async function block (page: Page, key: string, index: number): Promise<Uint8Array> {
  const bytes = await page.evaluate(async ([k, i]) => {
    const shadw = (window as unknown as { shadw: { call (m: string, p: unknown): Promise<{ block: Uint8Array | null }> } }).shadw
    const { block } = await shadw.call('get', { key: k, index: i, timeout: 10_000 })
    return block === null ? null : Array.from(block)
  }, [key, index] as const)
  if (bytes === null) throw new Error(`block ${index} of ${key} is not at the tab`)
  return Uint8Array.from(bytes)
}

describe('the executor role in a contributor tab', () => {
  it('signs a miss into the tab\'s misses log when an executor it called stays silent past the attempt\'s deadline', async () => {
    const { superNode, net } = await swarm()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    // an executor that takes calls and never answers them (its node stays up: silence, not a drop)
    const silent = new FaultyExecutor(sharedExecutor(1))
    silent.hold = new Promise<void>(() => {})
    const holder = await executorNode(net, silent)
    const browser = await launchChromium()
    const tab = await openApp(await newContext(browser), `${superNode.info.appUrl}?execute=1`)
    const tabKey = (await call(tab, 'status', {})).publicKey
    await knows(tab, [holder.key])

    // two slots: the tab's own executor answers one, the holder takes the other and stays silent
    const answer = await invoke(tab, ref, 'anyone there?', { redundancy: 2, quorum: 1 })
    expect(answer).toEqual({ output: 'anyone there?', executors: [tabKey] })
    expect(silent.calls).toBe(1)

    const misses = await until('the miss in the tab\'s misses log', async () => (await call(tab, 'status', {})).logs.find(l => l.name === 'misses' && l.length > 0), 20_000)
    expect([misses.writable, misses.length]).toEqual([true, 1])
    const miss = verifyMiss(decodeMiss(await block(tab, misses.key, 0)))
    expect([miss.executor, miss.caller, miss.reason]).toEqual([holder.key, tabKey, 'timeout'])
  })

  it('routes around an executor that light nodes refuted: the tab reads their attestations from the swarm and no longer asks it, though its round trip is the shorter', async () => {
    const { superNode, net } = await swarm()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const real = sharedExecutor(2)
    const faults = [new FaultyExecutor(real), new FaultyExecutor(real)] as const
    const executors = [await announcingExecutor(net, faults[0]), await announcingExecutor(net, faults[1])] as const
    const browser = await launchChromium()
    const tab = await openApp(await newContext(browser), `${superNode.info.appUrl}?execute=1`)
    const tabKey = (await call(tab, 'status', {})).publicKey
    await knows(tab, executors.map(e => e.key))

    // the tab runs one slot of a call itself and gives the other to the executor with the
    // shorter round trip (measured when the channel opened): that one lies
    const first = await roundTrips(tab)
    const [liar, honest, lying] = (first.get(executors[0].key) ?? Infinity) < (first.get(executors[1].key) ?? Infinity)
      ? [executors[0], executors[1], faults[0]]
      : [executors[1], executors[0], faults[1]]
    lying.lie = 0xff
    // its lie and the tab's answer make no quorum of 2; its receipt is in its ledger all the same
    await expect(invoke(tab, ref, 'probe', { redundancy: 2 })).rejects.toThrow(/QUORUM_FAILED/)
    expect(lying.calls).toBe(1)
    const lies = liar.node.logInfo(liar.ledgerKey).length
    expect(lies).toBe(1)

    // two light nodes replicate the liar's ledger, refute every receipt in it, and announce their logs
    const refutations: string[] = []
    for (let i = 0; i < 2; i++) {
      const light = await keyedNode(net, 'light')
      await light.node.follow(liar.ledgerKey)
      await light.node.waitForLength(liar.ledgerKey, lies, 20_000)
      const entries = await readLedger({ length: lies, get: async (index) => await light.node.get(liar.ledgerKey, index, { timeout: 20_000 }) })
      const log = await light.node.createLog('attestations')
      await light.node.append(log.key, entries.flatMap(e => e.kind === 'receipt' ? [encodeAttestation(signAttestation(e.receipt, 'disagree', 'quorum', light.keyPair, Date.now()))] : []))
      expect(light.node.logInfo(log.key).length).toBe(lies)
      const announcer = new LedgerAnnouncer({ host: light.node, ledgers: () => [log.key] })
      announcer.start()
      onTestFinished(() => { announcer.stop() })
      await light.node.joinSigning('light')
      refutations.push(log.key)
    }
    // the tab's reputation tracker follows what they announce and reads every block of it
    await until('the refutations and the liar\'s ledger at the tab', async () => {
      for (const key of refutations) if (!await holds(tab, key, lies - 1)) return false
      return await holds(tab, liar.ledgerKey, lies - 1)
    }, 60_000, 250)
    // by round trip alone the router would still pick the liar: once the tracker recomputed
    // the scores (RECOMPUTE_DELAY_MS after it caught up), it picks the other
    const now = await roundTrips(tab)
    expect(now.get(liar.key)).toBeLessThan(now.get(honest.key) ?? 0)
    await until('the tab to route around the liar', async () => await invoke(tab, ref, 'avoided?', { redundancy: 2 }).catch(() => null), 20 * RECOMPUTE_DELAY_MS, RECOMPUTE_DELAY_MS)
    const before = lying.calls
    for (let i = 0; i < AVOIDING_CALLS; i++) {
      const answer = await invoke(tab, ref, `call ${i}`, { redundancy: 2 })
      expect(answer.output).toBe(`call ${i}`)
      expect(answer.executors.sort()).toEqual([honest.key, tabKey].sort())
    }
    expect(lying.calls).toBe(before)
    // its own waits are bounded (20 s, 60 s, 20 recomputes); the test may take their sum on a loaded machine
  }, 180_000)

  it('loads a function from the node\'s module cache: a second publisher\'s copy of a module the tab already verified is run without fetching its blob log', async () => {
    const { superNode, net } = await swarm()
    const module = await wat('echo')
    const first = await publisher(net)
    const firstRef = await first.publish(module, { name: 'echo', version: '1.0.0' })
    const second = await publisher(net)
    const secondRef = await second.publish(module, { name: 'same-echo', version: '1.0.0' })
    const firstBlob = await first.registry.blobKey()
    const secondBlob = await second.registry.blobKey()
    expect(firstBlob).not.toBe(null)
    expect(secondBlob).not.toBe(null)
    const browser = await launchChromium()
    const tab = await openApp(await newContext(browser), `${superNode.info.appUrl}?execute=1`)
    const tabKey = (await call(tab, 'status', {})).publicKey

    // a page of the origin loads the first publisher's echo: fetched from its blob log, then cached
    const loaded = await call(tab, 'loadFunction', { ref: firstRef }, 60_000)
    expect(loaded.source).toBe('blob-log')
    expect(await holds(tab, firstBlob as string, 0)).toBe(true)

    // a tenant's call of the second publisher's echo runs in the tab, the only executor
    const tenant = await callerNode(net)
    await tenant.endpoint.waitForExecutors(1, { timeoutMs: 60_000 })
    const result = await tenant.endpoint.invoke(secondRef, b4a.from('cached'), { deadline: 30_000 })
    expect(b4a.toString(result.output)).toBe('cached')
    expect(result.receipts.map(r => r.executor)).toEqual([tabKey])
    expect(result.receipts[0]?.fn).toBe(secondRef)
    // the same bytes by hash: the executor's loader verified the cached copy and fetched nothing
    expect(await holds(tab, secondBlob as string, 0)).toBe(false)
  })
})
