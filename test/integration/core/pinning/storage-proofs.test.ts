import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { drivePinCommand } from '../../../../src/cli/drive-pin.ts'
import { computeStorageCredits, readLedger, signVerdict, storageCharge, type LedgerEntry, type ProofVerdict } from '../../../../src/core/ledger/index.ts'
import { describeLogs, pinDrive, pinErasure, proofStatus, ProofChannels, summarizeProofs, type HolderFailure } from '../../../../src/core/pinning/index.ts'
import { holdersTopic } from '../../../../src/core/pinning/pin-protocol.ts'
import { computeStorageReputation } from '../../../../src/core/reputation/index.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'
import { keyedNode, provingNode, type KeyedNode } from '../../../helpers/holders.ts'
import { corruptOnDisk, tmpStorage as tmp } from '../../../helpers/on-disk.ts'
import { testnet } from '../../../helpers/testnet.ts'

const rs = reedSolomon()
/** Polls of 100 ms: with a mean of 200 ms between challenges of one co-holder, a failure is caught in well under a second; 30 s bounds a loaded machine. */
const POLLS = 300

async function until (what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < POLLS; i++) {
    if (ok()) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`not within ${POLLS / 10} s: ${what}`)
}

async function ledgerOf (k: KeyedNode, key: string): Promise<LedgerEntry[]> {
  return await readLedger({ length: k.node.logInfo(key).length, get: async (i: number) => await k.node.get(key, i) })
}

describe('live storage proofs on a testnet', () => {
  it('erasure pins: a shard corrupted on disk and a holder that dropped its shard are failed by a quorum; neither strangers nor one lying co-holder frame an honest one', async () => {
    const net = await testnet()
    const dirs = [tmp(), tmp(), tmp(), tmp()]
    const holders = await Promise.all(dirs.map(async storage => await provingNode(net, { storage })))
    const pinner = await keyedNode(net, { tier: 'light' })
    const drive = 'ab'.repeat(32)
    const placement = await pinErasure({ node: pinner.node, rs, keyPair: pinner.keyPair, drive, version: 3, bytes: crypto.randomBytes(2 * 2 * 16384 - 100), scheme: { k: 2, m: 2 }, shardBytes: 16384, discoverMs: 10_000 })
    await pinner.stop()
    const byKey = (key: string): (typeof holders)[number] => holders.find(h => h.node.publicKey === key)!
    const [corrupt, dropper, honest, other] = placement.holds.map(h => ({ ...byKey(h.holder), shard: h.shard }))
    const failures: HolderFailure[] = []
    for (const h of holders) h.proofs.onHolderFailed(f => { failures.push(f) })

    // every holder proves its slot to every other one
    const provedBy = (judge: (typeof holders)[number], of: string): boolean => judge.proofs.book.verdicts(drive).some(v => v.holder === of && v.challenger === judge.node.publicKey && v.ok)
    await until('every holder challenged every other once, successfully', () => holders.every(j => holders.every(h => h === j || provedBy(j, h.node.publicKey))))
    expect(holders.map(h => h.proofs.failedHolders(drive))).toEqual([[], [], [], []])

    // a stranger signs failures of an honest holder with three keys, and one of the drive's own
    // holders signs one too (dated ahead, so it stays its latest), all gossiped to every holder
    const liar = await keyedNode(net, { tier: 'light' })
    const liarKeys = [crypto.keyPair(), crypto.keyPair(), liar.keyPair]
    const channels = new ProofChannels(liar.node)
    channels.start()
    onTestFinished(() => { channels.stop() })
    await liar.node.joinTopic(holdersTopic(), { server: false, client: true })
    await until('the liar reaches every holder', () => channels.peers().length >= 4)
    const lies = [...liarKeys, other!.keyPair].map(k => signVerdict({ kind: 'shard', drive, target: placement.pin.root, stripe: 0, shard: honest!.shard, holder: honest!.node.publicKey, ok: false, reason: 'made up', time: Date.now() + 60_000 }, k))
    for (const peer of channels.peers()) peer.send({ type: 'gossip', verdicts: lies })

    // corrupt one holder's shard bytes on its disk; another drops its shard's blocks (it claimed room it no longer gives)
    const corruptLog = corrupt!.shards.logOf(placement.pin.root, corrupt!.shard)!
    expect(corruptOnDisk(dirs[holders.indexOf(byKey(corrupt!.node.publicKey))]!, corruptLog)).toBeGreaterThan(0)
    const dropLog = dropper!.shards.logOf(placement.pin.root, dropper!.shard)!
    const session = dropper!.node.session(dropLog)
    await session.ready()
    await session.clear(0, session.length)
    await session.close()

    const failedEverywhere = (key: string): boolean => holders.filter(h => h.node.publicKey !== key).every(h => h.proofs.failedHolders(drive).some(f => f.holder === key))
    await until('the corrupted and the dropping holder are failed by every other holder', () => failedEverywhere(corrupt!.node.publicKey) && failedEverywhere(dropper!.node.publicKey))
    const f = honest!.proofs.failedHolders(drive).find(x => x.holder === corrupt!.node.publicKey)!
    expect(f).toMatchObject({ drive, kind: 'shard', target: placement.pin.root, shard: corrupt!.shard })
    expect(f.verdicts.filter(v => !v.ok).length).toBeGreaterThanOrEqual(2)
    expect(failures.some(x => x.holder === dropper!.node.publicKey && x.shard === dropper!.shard)).toBe(true)
    // the strangers' lies are refused; the lying co-holder's is kept, but one challenger is no quorum
    for (const h of holders) {
      expect(h.proofs.failedHolders(drive).map(x => x.holder)).not.toContain(honest!.node.publicKey)
      expect(h.proofs.failedHolders(drive).map(x => x.holder)).not.toContain(other!.node.publicKey)
    }

    // the verdicts are in the holders' storage ledgers, signed; status shows each holder's last proof
    await Promise.all(holders.map(async h => { await h.proofs.settled() }))
    const verdicts: ProofVerdict[] = []
    for (const h of holders) {
      const own = (await ledgerOf(h, h.ledgerKey)).flatMap(e => e.kind === 'verdict' ? [e.verdict] : [])
      expect(own.every(v => v.challenger === h.node.publicKey)).toBe(true)
      verdicts.push(...own)
    }
    expect(verdicts.some(v => v.holder === corrupt!.node.publicKey && !v.ok && /does not prove/.test(v.reason))).toBe(true)
    expect(verdicts.some(v => v.holder === dropper!.node.publicKey && !v.ok && /not held/.test(v.reason))).toBe(true)
    expect(verdicts.filter(v => v.holder === honest!.node.publicKey || v.holder === other!.node.publicKey).every(v => v.ok)).toBe(true)

    const reader = await keyedNode(net, { tier: 'light' })
    const seen: ProofVerdict[] = await proofStatus({ node: reader.node, drive, discoverMs: 5_000 })
    expect(seen.some(v => liarKeys.some(k => v.challenger === b4a.toString(k.publicKey, 'hex')))).toBe(false)
    expect(seen.some(v => v.challenger === other!.node.publicKey && v.holder === honest!.node.publicKey && !v.ok)).toBe(true)
    const status = summarizeProofs(seen, drive, placement.holds.map(h => h.holder))
    const row = (key: string): (typeof status)[number] | undefined => status.find(s => s.holder === key)
    expect(row(corrupt!.node.publicKey)).toMatchObject({ failed: true, last: { ok: false } })
    expect(row(dropper!.node.publicKey)).toMatchObject({ failed: true, last: { ok: false } })
    expect(row(honest!.node.publicKey)).toMatchObject({ failed: false, failing: 1, last: { ok: false, reason: 'made up' } })
    expect(row(honest!.node.publicKey)!.challengers).toBe(3)
    expect(row(other!.node.publicKey)).toMatchObject({ failed: false, last: { ok: true } })
  }, 120_000)

  it('replicated pins: a holder that dropped blocks of the drive fails its block proofs, loses reputation and is not paid for the failed stretch', async () => {
    const net = await testnet()
    // a short grace: holders re-confirm, and bill a hold period, every 400 ms; a price high enough that one is not 0 µcredits
    const holders = await Promise.all([0, 1, 2].map(async () => await provingNode(net, { graceMs: 2_000, price: 1e11 })))
    const pinner = await keyedNode(net, { tier: 'light' })
    const core = pinner.store.get({ name: 'db' })
    await core.append(Array.from({ length: 24 }, (_, i) => b4a.alloc(65536, i)))
    await pinner.node.follow(core.key!)
    const logs = await describeLogs([core])
    const drive = logs[0]!.key
    const confs = await pinDrive({ node: pinner.node, request: { drive, logs, replicas: 3 }, keyPair: pinner.keyPair })
    expect(confs).toHaveLength(3)
    await pinner.stop()
    const [liar, honest, other] = holders
    await until('every holder proved a block to every other', () => holders.every(j => holders.every(h => h === j || j.proofs.book.verdicts(drive).some(v => v.kind === 'block' && v.holder === h.node.publicKey && v.challenger === j.node.publicKey && v.ok))))

    // the holder drops the drive's blocks from its disk but goes on confirming it holds them
    const s = liar!.node.session(drive)
    await s.ready()
    await s.clear(0, 24)
    await s.close()
    await until('both co-holders fail it', () => [honest!, other!].every(h => h.proofs.failedHolders(drive).some(f => f.holder === liar!.node.publicKey && f.kind === 'block')))

    // from the three storage ledgers: a failed stretch, a reputation under the honest holders', payment withheld once billed
    const ledgers = async (): Promise<LedgerEntry[]> => {
      await Promise.all(holders.map(async h => { await h.proofs.settled(); await h.holder.recorded() }))
      return (await Promise.all(holders.map(async h => await ledgerOf(h, h.ledgerKey)))).flat()
    }
    let entries = await ledgers()
    for (let i = 0; i < 50 && (computeStorageCredits(entries).withheld.get(liar!.node.publicKey) ?? 0) === 0; i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      entries = await ledgers()
    }
    const credits = computeStorageCredits(entries)
    expect(credits.failures.filter(f => f.holder !== liar!.node.publicKey)).toEqual([])
    expect(credits.failures.filter(f => f.holder === liar!.node.publicKey)).toHaveLength(1)
    // the holder follows the drive, so Hypercore fetches the dropped blocks back from its co-holders: the stretch may have ended
    const failed = credits.failures.find(f => f.holder === liar!.node.publicKey)!
    const failedFrom = failed.from
    expect(credits.withheld.get(liar!.node.publicKey)).toBeGreaterThan(0)
    expect(credits.withheld.get(honest!.node.publicKey)).toBeUndefined()
    // what it earned is exactly its hold periods' charge outside the failed stretch, plus what it served (bytes it did upload)
    const served = entries.reduce((sum, e) => sum + (e.kind === 'storage' && e.receipt.kind === 'serve' && e.receipt.holder === liar!.node.publicKey ? e.receipt.total : 0), 0)
    const clamp = (r: { from: number, to: number }, x: number): number => Math.min(r.to, Math.max(r.from, x))
    const paid = entries.flatMap(e => e.kind === 'storage' && e.receipt.kind === 'hold' && e.receipt.holder === liar!.node.publicKey ? [e.receipt] : [])
      .reduce((sum, r) => sum + storageCharge('hold', r.bytes, r.from, clamp(r, failed.from), r.price) + (failed.to === null ? 0 : storageCharge('hold', r.bytes, clamp(r, failed.to), r.to, r.price)), 0)
    expect(credits.earned.get(liar!.node.publicKey) ?? 0).toBe(paid + served)

    // `shadw drive status --json`: per holder its last proof and whether it stands failed
    let out = ''
    expect(await drivePinCommand(['status', drive, '--bootstrap', `127.0.0.1:${net.bootstrap[0]!.port}`, '--json'], { stdout: t => { out += t }, stderr: () => {}, tty: false })).toBe(0)
    const proofs = (JSON.parse(out) as { proofs: Array<{ holder: string, failed: boolean, challengers: number, last: { time: number, ok: boolean, kind: string } }> }).proofs
    const row = (k: string): (typeof proofs)[number] | undefined => proofs.find(p => p.holder === k)
    expect(row(liar!.node.publicKey)).toMatchObject({ challengers: 2, last: { kind: 'block' } })
    expect(row(honest!.node.publicKey)).toMatchObject({ failed: false, challengers: 2, last: { ok: true, kind: 'block' } })
    expect(row(honest!.node.publicKey)!.last.time).toBeGreaterThan(failedFrom - 60_000)
    const rep = computeStorageReputation(entries)
    expect(rep.get(liar!.node.publicKey)!.failed).toBe(1)
    expect(rep.get(liar!.node.publicKey)!.score).toBeLessThan(rep.get(honest!.node.publicKey)!.score)
    expect(rep.get(honest!.node.publicKey)!.failed).toBe(0)
  }, 120_000)
})
