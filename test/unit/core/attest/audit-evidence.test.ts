import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { LightSigningService, type SigningServiceOptions } from '../../../../src/core/attest/index.ts'
import { encodeReceipt, receiptHash, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { sha256 } from '../../../../src/core/sha256.ts'
import { MemorySigningHost } from '../../../helpers/memory-signing-host.ts'
import { testReceipt } from '../../../helpers/receipts.ts'

const PUBLISHER = 'ab'.repeat(32)
const MANIFEST_SIGNATURE = 'cd'.repeat(64)
const MODULE_HASH = '01'.repeat(32)
const INPUT = b4a.from('the tenant\'s input')
/** What the function really returns on INPUT, and the fuel it takes (the fake sandbox's answer). */
const RIGHT = sha256(b4a.from('right'))
const FUEL = 1234

function receiptOf (kp: { publicKey: Uint8Array, secretKey: Uint8Array }, over: { outputHash?: string, nonce?: string, fn?: string } = {}): SignedReceipt {
  return testReceipt(kp, { fn: `${PUBLISHER}/echo@1.0.0`, manifestSignature: MANIFEST_SIGNATURE, moduleHash: MODULE_HASH, inputHash: sha256(INPUT), outputHash: RIGHT, fuel: FUEL, ...over })
}

/** A light node on the fake host; its sandbox re-runs any call to RIGHT/FUEL and counts its runs. */
async function light (opts: { reexec?: boolean, loadable?: boolean, settleMs?: number } = {}): Promise<{ host: MemorySigningHost, service: LightSigningService, runs: () => number, loads: () => number }> {
  const host = new MemorySigningHost()
  let runs = 0
  let loads = 0
  const functions = {
    load: async () => {
      loads++
      if (opts.loadable === false) throw new Error('registry unreachable')
      return { signature: MANIFEST_SIGNATURE, manifest: { moduleHash: MODULE_HASH, abi: 'bytes', limits: { maxInputBytes: 1 << 20 } }, module: {} }
    }
  }
  const executor = { size: 1, close: async () => {}, execute: async () => { runs++; return { output: b4a.from('right'), fuelUsed: FUEL } } }
  const service = new LightSigningService({
    host: host as unknown as SigningServiceOptions['host'],
    keyPair: crypto.keyPair(),
    sampleRate: 0,
    settleMs: opts.settleMs ?? 50,
    ...(opts.reexec === false ? {} : { reexec: { functions, executor } as unknown as NonNullable<SigningServiceOptions['reexec']> })
  })
  await service.start()
  return { host, service, runs: () => runs, loads: () => loads }
}

/** Lets every timer due in `ms` fire, and the promises they start settle. */
async function elapse (ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
}

describe('light-node audits supply inputs, never evidence', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('Sybil-signed receipts sent as audits for an honest call do not outvote its ledger receipt: the audit\'s input re-runs the honest receipt, which is upheld, and the Sybil receipts are never judged', async () => {
    const { host, service } = await light()
    const honest = crypto.keyPair()
    const ledger = b4a.toString(crypto.keyPair().publicKey, 'hex')
    const r = receiptOf(honest)
    host.write(ledger, encodeReceipt(r))
    await service.watch(ledger)
    // three throwaway keys claim another output for the same call, and reveal its input
    for (let i = 0; i < 3; i++) service.audit({ receipt: receiptOf(crypto.keyPair(), { outputHash: '0f'.repeat(32) }), input: INPUT }, `sybil${i}`)
    await elapse(1_000)
    expect(service.signed.map(a => [a.receiptHash === receiptHash(r), a.verdict, a.method])).toEqual([[true, 'agree', 'reexec']])
    expect(service.stats()).toMatchObject({ attestations: 1, agree: 1, disagree: 0, reexec: 1 })
    service.stop()
  })

  it('when the light node cannot re-run the call, Sybil audits still cannot outvote the honest ledger receipt: it abstains rather than disagree', async () => {
    const { host, service } = await light({ loadable: false })
    const ledger = b4a.toString(crypto.keyPair().publicKey, 'hex')
    const r = receiptOf(crypto.keyPair(), { nonce: '11'.repeat(32) })
    host.write(ledger, encodeReceipt(r))
    await service.watch(ledger)
    for (let i = 0; i < 3; i++) service.audit({ receipt: receiptOf(crypto.keyPair(), { nonce: '11'.repeat(32), outputHash: '0f'.repeat(32) }), input: INPUT }, `sybil${i}`)
    await elapse(1_000)
    expect(service.signed).toEqual([])
    // the three audits name one call: its input is held once
    expect(service.stats()).toMatchObject({ attestations: 0, disagree: 0, audits: 1 })
    service.stop()
  })

  it('a self-audited receipt that is in no ledger is never judged (no upheld verdict to farm); once it is read from a ledger within the hold it is re-run', async () => {
    const { host, service, runs } = await light()
    const self = crypto.keyPair()
    const fabricated = receiptOf(self, { nonce: '22'.repeat(32) })
    const held = service.audit({ receipt: fabricated, input: INPUT }, 'self')
    await elapse(5_000)
    expect(service.signed).toEqual([])
    expect(runs()).toBe(0)
    expect(service.stats()).toMatchObject({ attestations: 0, audits: 1 })
    expect(held).toBe('held')
    const ledger = b4a.toString(crypto.keyPair().publicKey, 'hex')
    host.write(ledger, encodeReceipt(fabricated))
    await service.watch(ledger)
    await elapse(1_000)
    expect(service.signed.map(a => [a.verdict, a.method])).toEqual([['agree', 'reexec']])
    service.stop()
  })

  it('a held input expires: a receipt read after the hold is not re-run and the light node abstains (redundancy 1)', async () => {
    const { AUDIT_TTL_MS } = await import('../../../../src/core/attest/held-audits.ts')
    const { host, service, runs } = await light()
    const r = receiptOf(crypto.keyPair(), { nonce: '33'.repeat(32) })
    service.audit({ receipt: r, input: INPUT }, 'tenant')
    await elapse(AUDIT_TTL_MS + 1)
    const ledger = b4a.toString(crypto.keyPair().publicKey, 'hex')
    host.write(ledger, encodeReceipt(r))
    await service.watch(ledger)
    await elapse(1_000)
    expect(service.signed).toEqual([])
    expect(runs()).toBe(0)
    service.stop()
  })

  it('one audit re-runs every receipt of its call read from ledgers, executing the call once; an audit arriving after the receipts were left unjudged brings them to judgement', async () => {
    const { host, service, runs } = await light()
    const nonce = '44'.repeat(32)
    const receipts = [receiptOf(crypto.keyPair(), { nonce }), receiptOf(crypto.keyPair(), { nonce }), receiptOf(crypto.keyPair(), { nonce, outputHash: '0f'.repeat(32) })]
    // one ledger per executor; the third lies
    for (const r of receipts) {
      const ledger = b4a.toString(crypto.keyPair().publicKey, 'hex')
      host.write(ledger, encodeReceipt(r))
      await service.watch(ledger)
    }
    await elapse(1_000)
    // quorum decided all three already (2 against 1): the late audit does not judge them again
    expect(service.signed.map(a => [a.verdict, a.method])).toEqual([['agree', 'quorum'], ['agree', 'quorum'], ['disagree', 'quorum']])
    expect(service.audit({ receipt: receipts[0] as SignedReceipt, input: INPUT }, 'tenant')).toBe('held')
    await elapse(1_000)
    expect(service.signed).toHaveLength(3)

    // redundancy 1, no input yet: abstained; the audit then brings it to a re-run
    const lone = receiptOf(crypto.keyPair(), { nonce: '55'.repeat(32) })
    const ledger = b4a.toString(crypto.keyPair().publicKey, 'hex')
    host.write(ledger, encodeReceipt(lone))
    await service.watch(ledger)
    await elapse(1_000)
    expect(service.signed).toHaveLength(3)
    service.audit({ receipt: lone, input: INPUT }, 'tenant')
    await elapse(1_000)
    expect(service.signed.slice(3).map(a => [a.receiptHash === receiptHash(lone), a.verdict, a.method])).toEqual([[true, 'agree', 'reexec']])

    // an audited call at redundancy 2: both receipts re-run, the call executed once
    const before = runs()
    const pair = [receiptOf(crypto.keyPair(), { nonce: '66'.repeat(32) }), receiptOf(crypto.keyPair(), { nonce: '66'.repeat(32) })]
    service.audit({ receipt: pair[0] as SignedReceipt, input: INPUT }, 'tenant')
    for (const r of pair) {
      const key = b4a.toString(crypto.keyPair().publicKey, 'hex')
      host.write(key, encodeReceipt(r))
      await service.watch(key)
    }
    await elapse(1_000)
    expect(service.signed.slice(4).map(a => [a.verdict, a.method])).toEqual([['agree', 'reexec'], ['agree', 'reexec']])
    expect(runs() - before).toBe(1)
    service.stop()
  })
})

describe('light-node bounds', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('one peer cannot hold more than its share of audited inputs: the rest are dropped and counted; the same call\'s input twice is held once', async () => {
    const { MAX_HELD_AUDITS_PER_PEER } = await import('../../../../src/core/attest/held-audits.ts')
    const { service } = await light()
    const results = []
    for (let i = 0; i < MAX_HELD_AUDITS_PER_PEER + 4; i++) results.push(service.audit({ receipt: receiptOf(crypto.keyPair(), { nonce: i.toString(16).padStart(64, '0') }), input: INPUT }, 'flooder'))
    expect(results.filter(r => r === 'held')).toHaveLength(MAX_HELD_AUDITS_PER_PEER)
    expect(service.audit({ receipt: receiptOf(crypto.keyPair(), { nonce: '77'.repeat(32) }), input: INPUT }, 'another')).toBe('held')
    expect(service.audit({ receipt: receiptOf(crypto.keyPair(), { nonce: '77'.repeat(32) }), input: INPUT }, 'another')).toBe('duplicate')
    expect(service.stats()).toMatchObject({ audits: MAX_HELD_AUDITS_PER_PEER + 1, auditsDropped: 4 })
    service.stop()
  })

  it('keeps only the latest attestations in `signed` and counts the rest', async () => {
    const { MAX_RECENT_ATTESTATIONS } = await import('../../../../src/core/attest/signing-service.ts')
    const { host, service } = await light({ reexec: false })
    const executors = [crypto.keyPair(), crypto.keyPair()]
    const ledgers = executors.map(() => b4a.toString(crypto.keyPair().publicKey, 'hex'))
    const CALLS = MAX_RECENT_ATTESTATIONS / 2 + 10
    for (let i = 0; i < CALLS; i++) {
      const nonce = (i + 1).toString(16).padStart(64, '0')
      executors.forEach((kp, j) => host.write(ledgers[j] as string, encodeReceipt(receiptOf(kp, { nonce }))))
    }
    for (const l of ledgers) await service.watch(l)
    await elapse(1_000)
    expect(service.signed).toHaveLength(MAX_RECENT_ATTESTATIONS)
    expect(service.stats()).toMatchObject({ attestations: 2 * CALLS, agree: 2 * CALLS, disagree: 0, reexec: 0 })
    service.stop()
  })

  it('re-runs follow at most MAX_RERUN_PUBLISHERS publishers\' registries; a receipt naming one more is not re-run', async () => {
    const { Rerunner } = await import('../../../../src/core/attest/index.ts')
    let loads = 0
    const functions = { load: async () => { loads++; return { signature: MANIFEST_SIGNATURE, manifest: { moduleHash: MODULE_HASH, abi: 'bytes', limits: { maxInputBytes: 1 << 20 } }, module: {} } } }
    const executor = { size: 1, close: async () => {}, execute: async () => ({ output: b4a.from('right'), fuelUsed: FUEL }) }
    const rerunner = new Rerunner({ functions, executor, maxPublishers: 1 } as unknown as ConstructorParameters<typeof Rerunner>[0])
    const kp = crypto.keyPair()
    expect(await rerunner.run(receiptOf(kp), INPUT)).toEqual({ outputHash: RIGHT, fuel: FUEL })
    expect(await rerunner.run(receiptOf(kp, { fn: `${'ef'.repeat(32)}/echo@1.0.0` }), INPUT)).toBeNull()
    expect(await rerunner.run(receiptOf(kp, { nonce: '99'.repeat(32) }), INPUT)).toEqual({ outputHash: RIGHT, fuel: FUEL })
    expect([loads, rerunner.refusedPublishers]).toEqual([2, 1])
  })
})
