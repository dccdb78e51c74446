import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it, onTestFinished } from 'vitest'
import { attestStatus, LightSigner } from '../../../../src/core/attest/index.ts'
import { encodeAttestation, signAttestation, type SignedAttestation } from '../../../../src/core/ledger/index.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import type { ShadwNode } from '../../../../src/core/node/shadw-node.ts'
import { encodeReceipt, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { InvokeEndpoint, InvokeService } from '../../../../src/core/invoke/index.ts'
import { charge, DEFAULT_PRICING, quote, quoteFor } from '../../../../src/core/pricing/index.ts'
import { computeCredits, readLedger, readLedgerEntry, type LedgerEntry } from '../../../../src/core/ledger/index.ts'
import { FunctionLoader } from '../../../../src/core/registry/index.ts'
import { computeReputation } from '../../../../src/core/reputation/index.ts'
import { NEUTRAL_REPUTATION } from '../../../../src/core/reputation/reputation.ts'
import { encodeMiss, signMiss } from '../../../../src/core/ledger/index.ts'
import type { Executor } from '../../../../src/core/sandbox/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { callerNode, FaultyExecutor, keyedNode, publisher, sharedExecutor } from '../../../helpers/invoke.ts'

/** A pricing executor: priced receipts to `ledger`, quotes in its adverts. */
async function pricedNode (net: Testnet, executor: Executor, now?: () => number): Promise<{ node: ShadwNode, service: InvokeService, loader: FunctionLoader, key: string, ledgerKey: string }> {
  const { node, keyPair } = await keyedNode(net, 'super')
  const ledger = await node.createLog('ledger')
  const loader = new FunctionLoader({ host: node })
  onTestFinished(async () => { await loader.close() })
  const service = new InvokeService({
    executor,
    functions: loader,
    keyPair,
    slots: 4,
    pricing: DEFAULT_PRICING,
    ledger: { key: b4a.from(ledger.key, 'hex'), append: async (blocks) => await node.append(ledger.key, blocks) },
    ...(now === undefined ? {} : { now })
  })
  const endpoint = new InvokeEndpoint({ host: node, tier: 'super', service, quote: () => service.quote })
  endpoint.start()
  onTestFinished(() => { endpoint.stop() })
  return { node, service, loader, key: node.publicKey, ledgerKey: ledger.key }
}

/** Follows `key` on `node` and waits until it holds `length` blocks; returns a reader over it. */
async function replicate (node: ShadwNode, key: string, length: number): Promise<{ length: number, get (i: number): Promise<Uint8Array | null> }> {
  await node.follow(key)
  await node.waitForLength(key, length, 20_000)
  await node.download(key, { start: 0, end: length })
  return { length, get: async (i) => await node.get(key, i) }
}

async function failure (p: Promise<unknown>): Promise<ShadwError> {
  try { await p } catch (err) { if (err instanceof ShadwError) return err; throw err }
  throw new Error('expected a typed error')
}

describe('proof of service over a swarm', () => {
  it('priced executors, a liar, three light signers (one dishonest): credits replicate exactly, honest receipts are attested 2-of-3, the liar\'s reputation falls and routing avoids it; a spending cap refuses before any work', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    // the same module at a publisher's price of 5,000 µcredits per million fuel, flat: a floor above every idle executor's 500
    const flat = [1_000_000, 1_000_000, 1_000_000, 1_000_000] as const
    const dear = await pub.publish(await wat('echo'), { name: 'dear', version: '1.0.0', price: { base: 5_000, curve: [...flat] } })
    const real = sharedExecutor(2)
    const liarExec = new FaultyExecutor(real)
    liarExec.lie = 0xff
    const honest = [await pricedNode(net, real), await pricedNode(net, real)]
    const liar = await pricedNode(net, liarExec)
    const executors = [...honest, liar]
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(3, { timeoutMs: 20_000 })
    // quotes travel in capacity adverts: idle executors quote the curve's P0
    expect(caller.endpoint.peers().filter(p => p.capacity?.quote !== undefined).map(p => p.capacity?.quote).sort()).toEqual(Array(3).fill({ utilisationPpm: 0, fuelPrice: 500, bytePrice: 50 }))

    const CALLS = 4
    for (let i = 0; i < CALLS; i++) {
      const res = await caller.endpoint.invoke(ref, b4a.from(`call ${i}`), { redundancy: 3, deadline: 20_000 })
      expect(b4a.toString(res.output)).toBe(`call ${i}`)
      expect(res.dissenters.map(d => d.executor)).toEqual([liar.key])
    }
    // one call to the function with its own price: each receipt applies the publisher's floor
    const dearRes = await caller.endpoint.invoke(dear, b4a.from('dear'), { redundancy: 3, quorum: 2, deadline: 20_000 })
    for (const r of [...dearRes.receipts, ...dearRes.dissenters]) {
      expect(r.price).toEqual(quoteFor(DEFAULT_PRICING, { base: 5_000, curve: flat }, 1, 4))
      expect(r.price.fuelPrice).toBe(5_000)
      expect(r.total).toBe(charge(r.price, r.fuel, r.bytes))
    }
    const BLOCKS = CALLS + 1

    // a per-call cap below the worst case (fuel limit × price) is refused before anything runs
    const before = executors.map(e => e.service.executions)
    const capped = await failure(caller.endpoint.invoke(ref, b4a.from('too dear'), { maxCharge: 1, deadline: 20_000 }))
    expect(capped.code).toBe('SPENDING_CAP_EXCEEDED')
    expect(executors.map(e => e.service.executions)).toEqual(before)

    // an observer replicates every executor's ledger (receipts only: the price is in each) and recomputes credits
    const { node: observer } = await keyedNode(net, 'shadow')
    const entries: LedgerEntry[] = []
    const own = new Map<string, LedgerEntry[]>()
    for (const e of executors) {
      entries.push(...await readLedger(await replicate(observer, e.ledgerKey, BLOCKS)))
      own.set(e.key, await readLedger({ length: BLOCKS, get: async (i) => await e.node.get(e.ledgerKey, i) }))
    }
    const seen = computeCredits(entries)
    expect(seen.counted).toBe(3 * BLOCKS)
    expect(seen.rejected).toEqual([])
    // each executor's own view of its ledger says what the observer says it earned
    for (const e of executors) expect(computeCredits(own.get(e.key) ?? []).earned.get(e.key)).toBe(seen.earned.get(e.key))
    expect(computeCredits([...own.values()].flat())).toEqual(seen)
    // echo of n bytes costs the same fuel everywhere; every executor earned the same, the caller paid it all
    const earned = executors.map(e => seen.earned.get(e.key) ?? 0)
    expect(earned[0]).toBeGreaterThan(0)
    expect(new Set(earned).size).toBe(1)
    expect(seen.spent).toEqual(new Map([[caller.node.publicKey, earned.reduce((a, b) => a + b, 0)]]))

    // an edited receipt never counts: the observer's copy is Merkle-verified, so we splice a
    // tampered block (its total raised, the signature left) into what it read
    const first = entries.findIndex(x => x.kind === 'receipt')
    const edited = entries.map((x, i) => {
      if (i !== first || x.kind !== 'receipt') return x
      const bytes = encodeReceipt({ ...x.receipt, price: { ...x.receipt.price, fuelPrice: x.receipt.price.fuelPrice * 10 }, total: charge({ ...x.receipt.price, fuelPrice: x.receipt.price.fuelPrice * 10 }, x.receipt.fuel, x.receipt.bytes) })
      return readLedgerEntry(bytes)
    })
    expect(computeCredits(edited).counted).toBe(3 * BLOCKS - 1)
    expect(computeCredits(edited).rejected.map(r => r.code)).toEqual(['RECEIPT_INVALID'])
    // idle executors quoted the curve's P0 in their adverts; the receipts say what was applied at admission
    expect(entries.flatMap(x => x.kind === 'receipt' && x.receipt.fn.includes('/echo@') ? [x.receipt.price] : [])).toEqual(Array(3 * CALLS).fill(quote(DEFAULT_PRICING, 1, 4)))

    // three light nodes read the replicated ledgers, check quorum evidence and co-sign; the third lies
    const receipts = entries.flatMap(x => x.kind === 'receipt' ? [x.receipt] : [])
    const lights = await Promise.all([0, 1, 2].map(async () => await keyedNode(net, 'light')))
    const attestationLogs: string[] = []
    for (const [i, l] of lights.entries()) {
      const log = await l.node.createLog('ledger')
      attestationLogs.push(log.key)
      const signer = new LightSigner({ keyPair: l.keyPair, sampleRate: 0 })
      const blocks: Uint8Array[] = []
      for (const r of receipts) {
        const honestVerdict = await signer.attest(r, receipts.filter(o => o.nonce === r.nonce)) as SignedAttestation
        const a = i < 2 ? honestVerdict : signAttestation(r, honestVerdict.verdict === 'agree' ? 'disagree' : 'agree', 'quorum', l.keyPair, Date.now())
        blocks.push(encodeAttestation(a))
      }
      await l.node.append(log.key, blocks)
    }
    // verifiable offline: the observer replicates the light nodes' logs and counts co-signatures
    const attestations: SignedAttestation[] = []
    for (const key of attestationLogs) {
      for (const x of await readLedger(await replicate(observer, key, receipts.length))) if (x.kind === 'attestation') attestations.push(x.attestation)
    }
    const policy = { m: 2, signers: new Set(lights.map(l => l.node.publicKey)) }
    const attested = (r: SignedReceipt): boolean => attestStatus(r, attestations, policy).attested
    expect(receipts.filter(r => r.executor !== liar.key).every(attested)).toBe(true)
    expect(receipts.filter(r => r.executor === liar.key).some(attested)).toBe(false)

    // reputation recomputed from the replicated ledgers: the liar falls below neutral, the honest rise
    const rep = computeReputation([...entries, ...attestations.map(a => ({ kind: 'attestation' as const, attestation: a }))], { policy })
    expect(rep.get(liar.key)).toMatchObject({ served: BLOCKS, refuted: BLOCKS, upheld: 0, late: 0, missed: 0 })
    for (const h of honest) expect(rep.get(h.key)).toMatchObject({ served: BLOCKS, upheld: BLOCKS, refuted: 0, late: 0, missed: 0 })
    expect(rep.get(liar.key)?.score).toBeLessThan(NEUTRAL_REPUTATION)
    expect(rep.get(honest[0]?.key as string)?.score).toBeGreaterThan(NEUTRAL_REPUTATION)

    // a fresh caller that never saw a dissent, routing by that reputation, never picks the liar
    const fresh = await callerNode(net)
    await fresh.endpoint.waitForExecutors(3, { timeoutMs: 20_000 })
    fresh.endpoint.setReputation(key => rep.get(key)?.score ?? NEUTRAL_REPUTATION)
    const liarCalls = liarExec.calls
    for (let i = 0; i < 6; i++) {
      const res = await fresh.endpoint.invoke(ref, b4a.from(`fresh ${i}`), { deadline: 20_000 })
      expect(res.receipts[0]?.executor).not.toBe(liar.key)
    }
    expect(liarExec.calls).toBe(liarCalls)
  }, 120_000)

  it('lateness and misses from replicated logs alone: a late receipt and a caller\'s signed miss lower the executors\' scores, and every node recomputes the same figures', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const real = sharedExecutor(2)
    const onTime = await pricedNode(net, real)
    // an executor whose clock jumps an hour ahead while it runs: its receipt is signed after the deadline
    let skew = 0
    const slowExec = new FaultyExecutor(real)
    slowExec.onCall = () => { skew = 3_600_000 }
    const late = await pricedNode(net, slowExec, () => Date.now() + skew)
    // an executor that takes the call and never answers
    const holdExec = new FaultyExecutor(real)
    holdExec.hold = new Promise<void>(() => {})
    const silent = await pricedNode(net, holdExec)
    // the caller signs a miss into a log of its own when an executor it asked stays silent
    const { node: callerNodeWithLedger, keyPair } = await keyedNode(net, 'light')
    const ledger = await callerNodeWithLedger.createLog('misses')
    const endpoint = new InvokeEndpoint({
      host: callerNodeWithLedger,
      tier: 'light',
      onmiss: (miss) => { void callerNodeWithLedger.append(ledger.key, [encodeMiss(signMiss({ ...miss, time: Date.now() }, keyPair))]) }
    })
    endpoint.start()
    onTestFinished(() => { endpoint.stop() })
    await endpoint.waitForExecutors(3, { timeoutMs: 20_000 })
    // every executor holds the function before the short call: a cold registry fetch on a
    // loaded machine could outlast the deadline, and an executor that never got to run the
    // call would leave no receipt (or, the silent one, never take it)
    for (const e of [onTime, late, silent]) await e.loader.load(ref)

    const res = await endpoint.invoke(ref, b4a.from('on time?'), { redundancy: 3, quorum: 1, deadline: 3_000 })
    expect(b4a.toString(res.output)).toBe('on time?')
    expect(holdExec.calls).toBe(1)
    await callerNodeWithLedger.waitForLength(ledger.key, 1, 20_000)

    // what the caller sees in its own logs and those it replicated, and what a fresh observer
    // replicates from the swarm, give the same figures
    const logs = [{ key: onTime.ledgerKey, length: 1 }, { key: late.ledgerKey, length: 1 }, { key: ledger.key, length: 1 }]
    const { node: observer } = await keyedNode(net, 'shadow')
    const there: LedgerEntry[] = []
    const here: LedgerEntry[] = []
    for (const l of logs) {
      there.push(...await readLedger(await replicate(observer, l.key, l.length)))
      here.push(...await readLedger(await replicate(callerNodeWithLedger, l.key, l.length)))
    }
    expect(silent.node.logInfo(silent.ledgerKey).length).toBe(0)
    expect(there.map(x => x.kind)).toEqual(['receipt', 'receipt', 'miss'])
    const policy = { m: 2, signers: new Set<string>() }
    const rep = computeReputation(there, { policy })
    expect(computeReputation(here, { policy })).toEqual(rep)
    expect(computeReputation([...there].reverse(), { policy })).toEqual(rep)
    expect(rep.get(onTime.key)).toMatchObject({ served: 1, late: 0, missed: 0 })
    expect(rep.get(late.key)).toMatchObject({ served: 1, late: 1, missed: 0 })
    expect(rep.get(silent.key)).toMatchObject({ served: 0, late: 0, missed: 1 })
    const score = (k: string): number => rep.get(k)?.score ?? NEUTRAL_REPUTATION
    expect(score(late.key)).toBeLessThan(score(onTime.key))
    expect(score(silent.key)).toBeLessThan(score(onTime.key))
    expect(score(silent.key)).toBeLessThan(NEUTRAL_REPUTATION)
    // credits from the same logs: two priced receipts, the silent executor earned nothing
    const credits = computeCredits(there)
    expect(credits.counted).toBe(2)
    expect(credits.earned.has(silent.key)).toBe(false)
  }, 120_000)
})
