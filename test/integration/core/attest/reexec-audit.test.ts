import b4a from 'b4a'
import c from 'compact-encoding'
import Protomux from 'protomux'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it, onTestFinished } from 'vitest'
import { attestStatus, AUDIT_PROTOCOL, AuditChannels, encodeAudit, LightSigningService, type Audit } from '../../../../src/core/attest/index.ts'
import { AUDIT_BURST } from '../../../../src/core/attest/audit-channel.ts'
import { type SignedAttestation } from '../../../../src/core/ledger/index.ts'
import crypto from 'hypercore-crypto'
import { signingTopic, type ShadwNode } from '../../../../src/core/node/index.ts'
import { InvokeEndpoint } from '../../../../src/core/invoke/index.ts'
import { AVOID_REPUTATION } from '../../../../src/core/invoke/router.ts'
import { sha256 } from '../../../../src/core/sha256.ts'
import { signReceipt, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { readLedger } from '../../../../src/core/ledger/index.ts'
import { ReputationTracker } from '../../../../src/core/reputation/index.ts'
import { FunctionLoader } from '../../../../src/core/registry/index.ts'
import type { Executor } from '../../../../src/core/sandbox/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { announcingExecutor, FaultyExecutor, keyedNode, publisher, sharedExecutor, until } from '../../../helpers/invoke.ts'

/** A light node that takes audits and re-runs them in its own sandbox. */
async function auditingLight (net: Testnet, sandbox: Executor): Promise<{ node: ShadwNode, signing: LightSigningService }> {
  const { node, keyPair } = await keyedNode(net, 'light')
  const functions = new FunctionLoader({ host: node })
  // no sampling: every re-execution in this test is one a tenant asked for
  const signing = new LightSigningService({ host: node, keyPair, sampleRate: 0, settleMs: 200, reexec: { executor: sandbox, functions } })
  await signing.start()
  // as the light hosts do (src/browser/signing-host.ts, SuperNode): on the signing topic while signing
  await node.joinSigning('light')
  onTestFinished(async () => { signing.stop(); await functions.close() })
  return { node, signing }
}

async function attestationsOf (light: { node: ShadwNode, signing: LightSigningService }): Promise<SignedAttestation[]> {
  const key = light.signing.attestationsKey as string
  const entries = await readLedger({ length: light.node.logInfo(key).length, get: async (i) => await light.node.get(key, i) })
  return entries.flatMap(e => e.kind === 'attestation' ? [e.attestation] : [])
}

describe('re-execution audits', () => {
  it('at redundancy 1 (no quorum evidence), audited calls are re-run by light nodes: the lying executor is refuted 2-of-2, its reputation falls below the avoid line, and the next calls go to an honest executor whose receipts are attested', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const real = sharedExecutor(2)
    const liarExec = new FaultyExecutor(real)
    liarExec.lie = 0x0f
    const liar = await announcingExecutor(net, liarExec)
    const honest = await announcingExecutor(net, real, { serve: false })
    const lights = [await auditingLight(net, real), await auditingLight(net, real)]

    const { node: callerNode } = await keyedNode(net, 'light')
    const audits = new AuditChannels({ host: callerNode })
    audits.start()
    const caller = new InvokeEndpoint({ host: callerNode, tier: 'light', audit: audits })
    caller.start()
    const tracker = new ReputationTracker({ host: callerNode })
    tracker.start()
    caller.setReputation(key => tracker.score(key))
    onTestFinished(() => { caller.stop(); tracker.stop(); audits.stop() })
    await caller.waitForExecutors(1, { timeoutMs: 20_000 })
    await until('both light nodes take audits', () => audits.auditors().length === 2, 20_000)

    const lies: SignedReceipt[] = []
    for (let i = 0; i < 2; i++) {
      const res = await caller.invoke(ref, b4a.from(`audited ${i}`), { deadline: 20_000, audit: true })
      expect(res.receipts.map(r => r.executor)).toEqual([liar.key])
      lies.push(...res.receipts)
    }
    for (const l of lights) await until('both lies judged', () => l.signing.signed.length === 2, 30_000)
    const policy = { m: 2, signers: new Set(lights.map(l => l.node.publicKey)) }
    const written = (await Promise.all(lights.map(attestationsOf))).flat()
    expect(written.map(a => [a.verdict, a.method])).toEqual(Array(4).fill(['disagree', 'reexec']))
    for (const r of lies) expect(attestStatus(r, written, policy)).toMatchObject({ attested: false, agree: [], disagree: [...policy.signers].sort() })
    expect(lights.map(l => l.signing.stats())).toEqual(Array(2).fill({ attestations: 2, agree: 0, disagree: 2, reexec: 2, audits: 2, auditsDropped: 0, auditsRefused: 0, auditsRateLimited: 0 }))

    // the caller's tracker replicated the ledger and both attestation logs: the liar is refuted
    await until('the tracker refutes both lies', () => tracker.scores.get(liar.key)?.refuted === 2, 30_000)
    expect(tracker.score(liar.key)).toBeLessThan(AVOID_REPUTATION)

    honest.serve()
    await caller.waitForExecutors(2, { timeoutMs: 20_000 })
    const before = liarExec.calls
    const res = await caller.invoke(ref, b4a.from('audited honestly'), { deadline: 20_000, audit: true })
    expect(res.receipts.map(r => r.executor)).toEqual([honest.key])
    expect(liarExec.calls).toBe(before)
    for (const l of lights) await until('the honest receipt judged', () => l.signing.signed.length === 3, 30_000)
    const all = (await Promise.all(lights.map(attestationsOf))).flat()
    expect(attestStatus(res.receipts[0] as SignedReceipt, all, policy)).toMatchObject({ attested: true, agree: [...policy.signers].sort(), disagree: [] })
    await until('the tracker upholds the honest executor', () => tracker.scores.get(honest.key)?.upheld === 1, 30_000)
  }, 120_000)

  it('calls without audit reveal nothing: a light node holds no input and abstains at redundancy 1', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const real = sharedExecutor(1)
    await announcingExecutor(net, real)
    const light = await auditingLight(net, real)
    const { node: callerNode } = await keyedNode(net, 'light')
    const audits = new AuditChannels({ host: callerNode })
    audits.start()
    const caller = new InvokeEndpoint({ host: callerNode, tier: 'light', audit: audits })
    caller.start()
    onTestFinished(() => { caller.stop(); audits.stop() })
    await caller.waitForExecutors(1, { timeoutMs: 20_000 })
    await until('the light node takes audits', () => audits.auditors().length === 1, 20_000)
    await caller.invoke(ref, b4a.from('private'), { deadline: 20_000 })
    await caller.invoke(ref, b4a.from('sampled out'), { deadline: 20_000, audit: 0 })
    await expect(caller.invoke(ref, b4a.from('x'), { audit: 2 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    // the ledger reached the light node, and it judged nothing it could not check
    await until('the light node follows the ledger', () => light.node.status().logs.some(l => !l.writable && l.length === 2), 20_000)
    await new Promise(resolve => setTimeout(resolve, 600))
    expect(light.signing.stats()).toMatchObject({ attestations: 0, audits: 0 })
  }, 60_000)

  it('an audited call at redundancy 2 sends its input once per auditor, not once per receipt, and the light node re-runs both executors\' receipts from that one audit', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const real = sharedExecutor(2)
    await announcingExecutor(net, real)
    await announcingExecutor(net, real)
    const light = await auditingLight(net, real)
    const { node: callerNode } = await keyedNode(net, 'light')
    const audits = new AuditChannels({ host: callerNode })
    audits.start()
    const sent: Audit[] = []
    const caller = new InvokeEndpoint({ host: callerNode, tier: 'light', audit: { submit: (a) => { sent.push(a); return audits.submit(a) } } })
    caller.start()
    onTestFinished(() => { caller.stop(); audits.stop() })
    await caller.waitForExecutors(2, { timeoutMs: 20_000 })
    await until('the light node takes audits', () => audits.auditors().length === 1, 20_000)
    const res = await caller.invoke(ref, b4a.from('audited twice over'), { redundancy: 2, deadline: 20_000, audit: true })
    expect(res.receipts).toHaveLength(2)
    expect(sent).toHaveLength(1)
    await until('both receipts judged', () => light.signing.signed.length === 2, 30_000)
    expect(light.signing.signed.map(a => [a.verdict, a.method])).toEqual([['agree', 'reexec'], ['agree', 'reexec']])
    expect(light.signing.stats()).toMatchObject({ audits: 1, reexec: 2 })
  }, 60_000)

  it('a peer sending audits faster than its rate has the excess dropped before decoding and counted; its channel stays open', async () => {
    const net = await testnet()
    const { node: lightNode } = await keyedNode(net, 'light')
    let taken = 0
    // a stopped clock: the bucket never refills, so exactly the burst gets through
    const channels = new AuditChannels({ host: lightNode, onaudit: () => { taken++ }, now: () => 0 })
    channels.start()
    onTestFinished(() => { channels.stop() })
    const { node: rogue } = await keyedNode(net, 'light')
    await until('the rogue connects to the light node', () => rogue.connections().some(([, p]) => p.publicKey === lightNode.publicKey), 20_000)
    const [conn] = rogue.connections().find(([, p]) => p.publicKey === lightNode.publicKey) ?? []
    if (conn === undefined) throw new Error('no connection')
    let closed = false
    let accepts: unknown = null
    const channel = Protomux.from(conn).createChannel({ protocol: AUDIT_PROTOCOL, unique: true, handshake: c.uint, onopen: (h) => { accepts = h }, onclose: () => { closed = true } })
    if (channel === null) throw new Error('channel taken')
    const message = channel.addMessage<Uint8Array>({ encoding: c.raw })
    channel.open(0)
    await until('the light node answers the handshake', () => accepts !== null, 20_000)
    // any key signs a receipt: these audits are well-formed, only too many
    const sybil = crypto.keyPair()
    const EXTRA = 5
    for (let i = 0; i < AUDIT_BURST + EXTRA; i++) {
      const input = b4a.from(`flood ${i}`)
      const body = { fn: `${'ab'.repeat(32)}/echo@1.0.0`, manifestSignature: 'cd'.repeat(64), moduleHash: '01'.repeat(32), outputHash: '03'.repeat(32), fuel: 1, tenant: '0xTenant' }
      const when = { time: 1_763_000_000_000, deadline: 1_763_000_001_000, bytes: 0, price: { utilisationPpm: 0, fuelPrice: 0, bytePrice: 0 }, total: 0 }
      const receipt = signReceipt({ ...body, ...when, inputHash: sha256(input), executor: b4a.toString(sybil.publicKey, 'hex'), nonce: i.toString(16).padStart(64, '0') }, sybil.secretKey)
      message.send(encodeAudit({ receipt, input }))
    }
    await until('every audit arrived', () => taken + channels.rateLimited === AUDIT_BURST + EXTRA, 20_000)
    expect([taken, channels.rateLimited, channels.refused, closed]).toEqual([AUDIT_BURST, EXTRA, 0, false])
  }, 60_000)

  it('a malformed audit (a forged input) closes the sender\'s audit channel, not the connection, and is counted as refused', async () => {
    const net = await testnet()
    const real = sharedExecutor(1)
    const light = await auditingLight(net, real)
    const { node: rogue } = await keyedNode(net, 'light')
    await until('the rogue connects to the light node', () => rogue.connections().some(([, p]) => p.publicKey === light.node.publicKey), 20_000)
    const [conn] = rogue.connections().find(([, p]) => p.publicKey === light.node.publicKey) ?? []
    if (conn === undefined) throw new Error('no connection')
    let closed = false
    let accepts: unknown = null
    const channel = Protomux.from(conn).createChannel({ protocol: AUDIT_PROTOCOL, unique: true, handshake: c.uint, onopen: (h) => { accepts = h }, onclose: () => { closed = true } })
    if (channel === null) throw new Error('channel taken')
    const message = channel.addMessage<Uint8Array>({ encoding: c.raw })
    channel.open(0)
    await until('the light node answers the handshake', () => accepts !== null, 20_000)
    expect(accepts).toBe(1)
    message.send(b4a.from([1, 3, 1, 2, 3, 0]))
    await until('the channel closed', () => closed, 20_000)
    expect(light.signing.stats()).toMatchObject({ audits: 0, auditsRefused: 1 })
    expect(rogue.connections().some(([, p]) => p.publicKey === light.node.publicKey)).toBe(true)
  }, 60_000)

  it('executors announce on the signing topic and light nodes look it up: a swarm that joins only that topic as a client reaches the executor and the light node', async () => {
    const net = await testnet()
    const real = sharedExecutor(1)
    const executor = await announcingExecutor(net, real)
    const light = await auditingLight(net, real)
    const topic = b4a.toString(signingTopic(), 'hex')
    expect(executor.node.status().topics).toContain(topic)
    expect(light.node.status().topics).toContain(topic)
    const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
    const swarm = new Hyperswarm({ dht })
    onTestFinished(async () => { await swarm.destroy(); await dht.destroy() })
    const reached = new Set<string>()
    swarm.on('connection', (conn: { remotePublicKey: Uint8Array, on (e: string, f: () => void): void }) => {
      reached.add(b4a.toString(conn.remotePublicKey, 'hex'))
      conn.on('error', () => {})
    })
    swarm.join(signingTopic(), { server: false, client: true })
    await until('both found on the signing topic', () => reached.has(executor.key) && reached.has(light.node.publicKey), 30_000)
  }, 60_000)
})
