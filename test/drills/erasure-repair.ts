/**
 * Drill: a drive pinned `--erasure 3+2` on live `shadw start` holders (a short grace), then
 * SIGKILL: M holders of the stripes (read still exact; the survivors repair both slots and
 * status is healthy again), the repairer of the next loss mid-repair (the next in the ranking
 * takes over; its own slot is repaired too), and M+1 holders (a typed error naming the
 * stripe). Counts the signed placement records: one per loss, none twice.
 *
 *   node --import tsx test/drills/erasure-repair.ts
 */
import { writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import createTestnet from 'hyperdht/testnet'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwError } from '../../src/core/errors.ts'
import { ShadwNode } from '../../src/core/node/shadw-node.ts'
import { findErasurePin, readErasure, type ErasurePlacement, type RepairRecord } from '../../src/core/pinning/index.ts'
import { reedSolomon } from '../../src/super-node/reed-solomon-node.ts'
import { cli, writeDrive } from './drill-cli.ts'
import { Drill, eventually, within } from './drill.ts'
import { killLive, startLive, type LiveNode } from './live-node.ts'

/** A holder silent this long is lost (short, for the drill). */
const GRACE_MS = 3_000
/** 3 + 2 placed, 2 + 2 repairs to come. */
const HOLDERS = 9
const FILE_BYTES = 6 * 1024 * 1024

const drill = new Drill('kill -9 of erasure shard holders: reads, self-repair, takeover, M+1')
const net = await createTestnet(3, { host: '127.0.0.1' })
const bootstrap = net.bootstrap.map(b => `${b.host}:${b.port}`).join(',')
const dirs: string[] = []
const holders: Array<LiveNode & { key: string }> = []
let code = 1
const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
const reader = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair: crypto.keyPair() }), store: new Corestore(RAM.reusable()), tier: 'light' })
try {
  await within(reader.start(), 30_000, 'reader start')
  for (let i = 0; i < HOLDERS + 1; i++) dirs.push(await mkdtemp(join(tmpdir(), 'shadw-drill-erasure-')))
  // the first alone (it rebuilds a stale lib/ that the others would race on), then three at
  // a time: nine start-ups at once outlast the start bound on a busy machine
  for (let i = 0; i < HOLDERS; i += i === 0 ? 1 : 3) {
    holders.push(...await Promise.all(dirs.slice(i, Math.min(i === 0 ? 1 : i + 3, HOLDERS)).map(async d => {
      const n = await startLive(d, ['--bootstrap', bootstrap, '--repin-grace', String(GRACE_MS), '--disk-budget', '64MiB'], { workers: 0, debug: 'pinning' })
      return { ...n, key: /public key:\s+([0-9a-f]{64})/.exec(n.stdout())?.[1] ?? '' }
    })))
  }
  drill.step(`${HOLDERS} holders up (shadw start --repin-grace ${GRACE_MS})`)
  const byKey = (k: string): (typeof holders)[number] => holders.find(h => h.key === k)!
  const live = new Set(holders.map(h => h.key))
  const kill = async (k: string): Promise<void> => { live.delete(k); await killLive(byKey(k)) }

  // the drive: one file, pinned 3+2 through the CLI
  const dir = dirs[HOLDERS]!
  const { key, expected } = await writeDrive(dir, FILE_BYTES)
  const pinned = await cli(['drive', 'pin', key, '--erasure', '3+2', '--storage', dir, '--bootstrap', bootstrap, '--json']) as unknown as ErasurePlacement
  const slot = (shard: number): string => pinned.holds.find(h => h.shard === shard)!.holder
  drill.step(`placed: ${pinned.holds.map(h => `${h.shard}:${h.holder.slice(0, 8)}`).join(' ')}`)
  drill.check('pinned 3+2 on five distinct holders', new Set(pinned.holds.map(h => h.holder)).size === 5, `${pinned.pin.stripes.length} stripes, ${pinned.pin.layout.size} bytes`)
  const s0 = await cli(['drive', 'status', key, '--bootstrap', bootstrap, '--json'])
  drill.check('status: healthy, 5 live in the weakest stripe, expansion under 1.7', s0.health === 'healthy' && s0.weakestStripeLive === 5 && (s0.expansion as number) < 1.7, `${String(s0.health)}, ${String(s0.weakestStripeLive)}, ${String(s0.expansion)}`)

  const read = async (): Promise<Uint8Array> => {
    const found = await findErasurePin({ node: reader, drive: key, discoverMs: 2_000 })
    if (found === null) throw new Error('no holder keeps the pin')
    return await readErasure({ node: reader, rs: reedSolomon(), placement: found, discoverMs: 1_000 })
  }
  const placement = async (): Promise<ErasurePlacement | null> => await findErasurePin({ node: reader, drive: key, discoverMs: 2_000 })
  const repaired = async (n: number): Promise<ErasurePlacement | null> => {
    let last: ErasurePlacement | null = null
    await eventually(async () => { last = await placement(); return last !== null && last.holds.length === 5 && (last.repairs ?? []).length >= n && (last.repairing ?? []).length === 0 }, 90_000)
    return last
  }

  // M holders of the stripes die: still exact, then repaired
  const first = [slot(0), slot(3)]
  for (const k of first) await kill(k)
  drill.check('M = 2 holders killed: the read is still exact', Buffer.compare(await read(), expected) === 0)
  const p1 = await repaired(2)
  const r1 = p1?.repairs ?? []
  drill.check('both lost slots repaired: 5 live slots again, 2 signed placement records', p1?.holds.length === 5 && r1.length === 2, `${p1?.holds.length ?? 0} live, ${r1.length} records`)
  drill.check('each record moves a killed holder\'s slot to its own holder new to the pin', r1.every(r => first.includes(r.from) && !pinned.holds.some(h => h.holder === r.to) && live.has(r.to)) && new Set(r1.map(r => r.from)).size === 2 && new Set(r1.map(r => r.to)).size === 2)
  const s1 = await cli(['drive', 'status', key, '--bootstrap', bootstrap, '--json'])
  drill.check('status: healthy again, no repair due', s1.health === 'healthy' && s1.weakestStripeLive === 5 && s1.repair === null, `${String(s1.health)}, ${String(s1.weakestStripeLive)}, repair ${String(s1.repair)}`)
  drill.check('the read is exact after the repair', Buffer.compare(await read(), expected) === 0)

  drill.step(`after repair: ${(p1?.holds ?? []).map(h => `${h.shard}:${h.holder.slice(0, 8)}`).join(' ')}`)
  // the repairer of the next loss dies mid-repair
  const third = slot(1)
  let repairer = ''
  const watched = holders.filter(h => live.has(h.key) && h.key !== third)
  const before = watched.map(h => h.stderr().length)
  await kill(third)
  await eventually(() => {
    const i = watched.findIndex((h, j) => h.stderr().slice(before[j]).includes('repairing shard 1 of'))
    if (i === -1) return false
    repairer = watched[i]!.key
    return true
  }, 60_000)
  if (repairer !== '') await kill(repairer)
  drill.check('the elected repairer started and was killed mid-repair', repairer !== '', repairer.slice(0, 8))
  const p2 = await repaired(4)
  const r2 = p2?.repairs ?? []
  drill.step(`after takeover: ${(p2?.holds ?? []).map(h => `${h.shard}:${h.holder.slice(0, 8)}`).join(' ')}`)
  const ofThird = r2.filter(r => r.from === third)
  drill.check('taken over: the loss is repaired once, by another holder', ofThird.length === 1 && ofThird[0]?.repairer !== repairer, ofThird.map(r => r.repairer.slice(0, 8)).join(','))
  drill.check('the dead repairer\'s own slot is repaired once', r2.filter(r => r.from === repairer).length === 1)
  drill.check('no double repair: 4 losses, 4 placement records, each loss once', r2.length === 4 && new Set(r2.map((r: RepairRecord) => r.from)).size === 4, `${r2.length} records`)
  drill.check('5 live slots; the read is exact', p2?.holds.length === 5 && Buffer.compare(await read(), expected) === 0)

  // M + 1 holders die: a typed error naming the stripe
  for (const h of (p2?.holds ?? []).slice(0, 3)) await kill(h.holder)
  let err: unknown = null
  try { await read() } catch (e) { err = e }
  drill.check('M + 1 lost: STRIPE_LOST naming the stripe', err instanceof ShadwError && err.code === 'STRIPE_LOST' && (err.details as { stripe?: number } | undefined)?.stripe === 0, err instanceof ShadwError ? err.message : String(err))
  const s3 = await cli(['drive', 'status', key, '--bootstrap', bootstrap, '--json'])
  // the weakest stripe's count is there when a survivor answered the status node in time (not always, right after three kills)
  drill.check('status: lost', s3.health === 'lost' && (s3.weakestStripeLive === undefined || (s3.weakestStripeLive as number) < 3), `${String(s3.health)}, ${String(s3.weakestStripeLive)} live in the weakest stripe`)
  let p3: ErasurePlacement | null = null
  await eventually(async () => { p3 = await placement(); return p3?.holds.length === 2 }, 30_000)
  drill.check('nothing else affected: the two survivors still serve their slots', (p3 as ErasurePlacement | null)?.holds.length === 2)
  code = drill.finish()
} catch (err) {
  drill.check('the drill ran to the end', false, err instanceof Error ? err.message : String(err))
  code = drill.finish()
} finally {
  if (process.env.DRILL_LOGS !== undefined) for (const h of holders) writeFileSync(join(process.env.DRILL_LOGS, `${h.key.slice(0, 8)}.log`), h.stderr())
  for (const h of holders) if (h.child.exitCode === null && h.child.signalCode === null) await killLive(h)
  await reader.stop().catch(() => {})
  await dht.destroy()
  await net.destroy()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
}
process.exit(code)
