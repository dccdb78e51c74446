import b4a from 'b4a'
import { describe, expect, it, onTestFinished } from 'vitest'
import { attestStatus, LightSigningService } from '../../../../src/core/attest/index.ts'
import { type SignedAttestation } from '../../../../src/core/ledger/index.ts'
import { type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { AVOID_REPUTATION } from '../../../../src/core/invoke/router.ts'
import { readLedger } from '../../../../src/core/ledger/index.ts'
import { ReputationTracker } from '../../../../src/core/reputation/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { announcingExecutor, callerNode, FaultyExecutor, keyedNode, publisher, sharedExecutor, until } from '../../../helpers/invoke.ts'

describe('light-node signing swarm', () => {
  it('light nodes find executors\' ledgers by announcement, replicate them, co-sign from quorum evidence into their own logs; 2-of-2 attests the honest receipts and never the liar\'s', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const real = sharedExecutor(2)
    const liarExec = new FaultyExecutor(real)
    liarExec.lie = 0x0f
    const executors = [await announcingExecutor(net, real), await announcingExecutor(net, real), await announcingExecutor(net, liarExec)]
    const liar = executors[2] as { key: string }
    const lights = await Promise.all([0, 1].map(async () => {
      const { node, keyPair } = await keyedNode(net, 'light')
      const signing = new LightSigningService({ host: node, keyPair, sampleRate: 0, settleMs: 300 })
      await signing.start()
      await node.joinSigning('light')
      onTestFinished(() => { signing.stop() })
      return { node, signing }
    }))
    const caller = await callerNode(net)
    // the caller tracks reputation from the logs executors and light nodes announce
    const tracker = new ReputationTracker({ host: caller.node })
    tracker.start()
    onTestFinished(() => { tracker.stop() })
    caller.endpoint.setReputation(key => tracker.score(key))
    await caller.endpoint.waitForExecutors(3, { timeoutMs: 20_000 })

    const CALLS = 2
    const receipts: SignedReceipt[] = []
    for (let i = 0; i < CALLS; i++) {
      const res = await caller.endpoint.invoke(ref, b4a.from(`signed ${i}`), { redundancy: 3, deadline: 20_000 })
      receipts.push(...res.receipts, ...res.dissenters)
    }
    expect(receipts).toHaveLength(3 * CALLS)
    for (const l of lights) await until('every receipt judged', () => l.signing.signed.length === 3 * CALLS, 30_000)

    // what each light node signed, read back from its own attestations log and verified from bytes
    const attestations: SignedAttestation[] = []
    for (const l of lights) {
      const key = l.signing.attestationsKey as string
      const entries = await readLedger({ length: 3 * CALLS, get: async (i) => await l.node.get(key, i) })
      for (const e of entries) if (e.kind === 'attestation') attestations.push(e.attestation)
    }
    expect(attestations).toHaveLength(2 * 3 * CALLS)
    expect(attestations.every(a => a.method === 'quorum')).toBe(true)
    const policy = { m: 2, signers: new Set(lights.map(l => l.node.publicKey)) }
    for (const r of receipts) {
      const status = attestStatus(r, attestations, policy)
      if (r.executor === liar.key) expect(status).toMatchObject({ attested: false, agree: [], disagree: [...policy.signers].sort() })
      else expect(status).toMatchObject({ attested: true, disagree: [] })
    }

    // the caller's tracker replicated the same logs: the liar is refuted on every call and avoided
    // it reads each log at its own pace: wait for every executor's verdicts, not just the liar's
    await until('the tracker counts every verdict', () => tracker.scores.get(liar.key)?.refuted === CALLS && executors.slice(0, 2).every(e => tracker.scores.get(e.key)?.upheld === CALLS), 30_000)
    expect(tracker.score(liar.key)).toBeLessThan(AVOID_REPUTATION)
    for (const e of executors.slice(0, 2)) expect(tracker.scores.get(e.key)).toMatchObject({ served: CALLS, upheld: CALLS, refuted: 0 })
    const before = liarExec.calls
    for (let i = 0; i < 6; i++) {
      const res = await caller.endpoint.invoke(ref, b4a.from(`after ${i}`), { deadline: 20_000 })
      expect(res.receipts[0]?.executor).not.toBe(liar.key)
    }
    expect(liarExec.calls).toBe(before)
  }, 90_000)
})
