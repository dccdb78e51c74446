import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it, onTestFinished } from 'vitest'
import { attestStatus, encodeAttestation, LightSigner, signAttestation, type SignedAttestation } from '../../../src/attest/index.ts'
import { ShadwError } from '../../../src/core/errors.ts'
import type { ShadwNode } from '../../../src/core/node/shadw-node.ts'
import { InvokeEndpoint, type SignedReceipt } from '../../../src/invoke/index.ts'
import { computeCredits, DEFAULT_PRICING, PricedInvokeService, readLedger, type LedgerEntry } from '../../../src/pricing/index.ts'
import { FunctionLoader } from '../../../src/registry/index.ts'
import { computeReputation, NEUTRAL_REPUTATION } from '../../../src/reputation/index.ts'
import type { Executor } from '../../../src/sandbox/index.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../helpers/testnet.ts'
import { callerNode, FaultyExecutor, keyedNode, publisher, sharedExecutor } from '../invoke/helpers.ts'

/** A pricing executor: receipts to `ledger`, signed charges to `charges`, quotes in its adverts. */
async function pricedNode (net: Testnet, executor: Executor): Promise<{ node: ShadwNode, service: PricedInvokeService, key: string, ledgerKey: string, chargesKey: string }> {
  const { node, keyPair } = await keyedNode(net, 'super')
  const ledger = await node.createLog('ledger')
  const charges = await node.createLog('charges')
  const loader = new FunctionLoader({ host: node })
  onTestFinished(async () => { await loader.close() })
  const service = new PricedInvokeService({
    executor,
    functions: loader,
    keyPair,
    slots: 4,
    pricing: DEFAULT_PRICING,
    ledger: { key: b4a.from(ledger.key, 'hex'), append: async (blocks) => await node.append(ledger.key, blocks) },
    charges: { key: b4a.from(charges.key, 'hex'), append: async (blocks) => await node.append(charges.key, blocks) }
  })
  const endpoint = new InvokeEndpoint({ host: node, tier: 'super', service, quote: () => service.quote })
  endpoint.start()
  onTestFinished(() => { endpoint.stop() })
  return { node, service, key: node.publicKey, ledgerKey: ledger.key, chargesKey: charges.key }
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
    expect(executors.map(e => e.service.charged)).toEqual([CALLS, CALLS, CALLS])

    // a per-call cap below the worst case (fuel limit × price) is refused before anything runs
    const before = executors.map(e => e.service.executions)
    const capped = await failure(caller.endpoint.invoke(ref, b4a.from('too dear'), { maxCharge: 1, deadline: 20_000 }))
    expect(capped.code).toBe('SPENDING_CAP_EXCEEDED')
    expect(executors.map(e => e.service.executions)).toEqual(before)

    // an observer replicates every executor's ledger and charges log and recomputes credits
    const { node: observer } = await keyedNode(net, 'shadow')
    const entries: LedgerEntry[] = []
    const own: LedgerEntry[] = []
    for (const e of executors) {
      for (const key of [e.ledgerKey, e.chargesKey]) {
        entries.push(...await readLedger(await replicate(observer, key, CALLS)))
        own.push(...await readLedger({ length: CALLS, get: async (i) => await e.node.get(key, i) }))
      }
    }
    const seen = computeCredits(entries)
    const mine = computeCredits(own)
    expect(seen).toEqual(mine)
    expect(seen.counted).toBe(3 * CALLS)
    expect(seen.rejected).toEqual([])
    // echo of n bytes costs the same fuel everywhere; every executor earned the same, the caller paid it all
    const earned = executors.map(e => seen.earned.get(e.key) ?? 0)
    expect(earned[0]).toBeGreaterThan(0)
    expect(new Set(earned).size).toBe(1)
    expect(seen.spent).toEqual(new Map([[caller.node.publicKey, earned.reduce((a, b) => a + b, 0)]]))

    // an edited charge in a replicated log never counts: the observer's copy is Merkle-verified,
    // so we splice a tampered block into what it read
    const firstCharge = entries.findIndex(x => x.kind === 'charge')
    const tampered = entries.map((x, i) => i === firstCharge && x.kind === 'charge' ? { kind: 'charge' as const, charge: { ...x.charge, total: x.charge.total * 10 } } : x)
    expect(computeCredits(tampered).counted).toBe(3 * CALLS - 1)
    expect(computeCredits(tampered).rejected.map(r => r.code)).toEqual(['CHARGE_INVALID'])

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
    expect(rep.get(liar.key)).toMatchObject({ served: CALLS, refuted: CALLS, upheld: 0 })
    for (const h of honest) expect(rep.get(h.key)).toMatchObject({ served: CALLS, upheld: CALLS, refuted: 0 })
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
})
