/**
 * Drill: live storage proofs between `shadw start` processes. Four storing nodes (one embeds
 * the DHT) run proofs every 300 ms on average; a drive is pinned on them erasure-coded 2+2 by
 * `shadw drive pin --erasure`. Then, while they run: one holder's shard bytes are corrupted
 * on its disk; another's shard data file is cut to nothing (a holder that claims room it no
 * longer gives); strangers gossip signed failures of an honest holder. Checks, through
 * `shadw drive status --json`: the two are failed by a quorum within a bounded time, the
 * honest holders are not, and the strangers' verdicts count for nothing.
 *
 *   node --import tsx test/drills/proofs.ts
 */
import { closeSync, openSync, readSync, ftruncateSync, statSync, writeSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { drivePinCommand } from '../../src/cli/drive-pin.ts'
import { ShadwNode } from '../../src/core/node/shadw-node.ts'
import { holdersTopic, ProofChannels, signVerdict } from '../../src/core/pinning/index.ts'
import { parseBootstrap } from '../../src/super-node/super-node.ts'
import { Drill, eventually, within } from './drill.ts'
import { startLive, stopLive, type LiveNode } from './live-node.ts'

/** Mean time between two challenges of one co-holder by one challenger. */
const PROOF_INTERVAL_MS = 300
/** Bound on catching both faults: with three challengers per holder at 300 ms, a few seconds; generous for a loaded machine. */
const CATCH_MS = 60_000

// hyperdrive ships no types; the drill writes a file through it
interface Drive { key: Uint8Array, ready (): Promise<void>, put (path: string, data: Uint8Array): Promise<void>, close (): Promise<void> }
const HYPERDRIVE = 'hyperdrive'
const { default: Hyperdrive } = await import(HYPERDRIVE) as { default: new (store: unknown, key?: Uint8Array) => Drive }

interface ProofRow { holder: string, failed: boolean, failing: number, challengers: number, last: { ok: boolean, reason: string, time: number } }
interface Status { health: string, erasure?: { holders: Array<{ shard: number, holder: string }>, root: string }, proofs: ProofRow[] }

const drill = new Drill('storage proofs between live nodes: corrupted shard, dropped shard, lying strangers')
const dirs: string[] = []
const nodes: LiveNode[] = []
let code = 1

async function status (bootstrap: string, drive: string): Promise<Status> {
  let out = ''
  await drivePinCommand(['status', drive, '--bootstrap', bootstrap, '--json'], { stdout: t => { out += t }, stderr: () => {}, tty: false })
  return JSON.parse(out) as Status
}

/** The data file of a node's log (Corestore's layout: cores/dk[0..2]/dk[2..4]/dk/data). */
function dataFile (storage: string, logKey: string): string {
  const dk = b4a.toString(crypto.discoveryKey(b4a.from(logKey, 'hex')), 'hex')
  return join(storage, 'cores', dk.slice(0, 2), dk.slice(2, 4), dk, 'data')
}

async function shardLog (node: LiveNode, root: string, shard: number): Promise<string> {
  const s = await (await fetch(new URL('/api/status', node.appUrl))).json() as { logs: Array<{ name?: string, key: string }> }
  const log = s.logs.find(l => l.name === `shadw-shards-${root}-${shard}`)
  if (log === undefined) throw new Error(`no shard log ${shard} on ${node.appUrl}`)
  return log.key
}

try {
  for (let i = 0; i < 4; i++) dirs.push(await mkdtemp(join(tmpdir(), 'shadw-drill-proofs-')))
  const common = ['--workers', '0', '--no-examples', '--tier', 'storm', '--disk-budget', '64MiB', '--proof-interval', String(PROOF_INTERVAL_MS)]
  nodes.push(await startLive(dirs[0]!, common))
  const bootstrap = nodes[0]!.bootstrap.join(',')
  for (let i = 1; i < 4; i++) nodes.push(await startLive(dirs[i]!, ['--bootstrap', bootstrap, ...common]))
  drill.step(`4 storing nodes up, proofs every ${PROOF_INTERVAL_MS} ms on average`)

  const driveDir = await mkdtemp(join(tmpdir(), 'shadw-drill-proofs-drive-'))
  dirs.push(driveDir)
  const store = new Corestore(driveDir)
  const d = new Hyperdrive(store)
  await d.ready()
  await d.put('/data.bin', crypto.randomBytes(200 * 1024))
  const drive = b4a.toString(d.key, 'hex')
  await d.close()
  await store.close()
  let pinned = ''
  const pinCode = await within(drivePinCommand(['pin', drive, '--erasure', '2+2', '--storage', driveDir, '--bootstrap', bootstrap, '--json'], { stdout: t => { pinned += t }, stderr: () => {}, tty: false }), 60_000, 'pin')
  const placement = JSON.parse(pinned) as { pin: { root: string }, holds: Array<{ holder: string, shard: number }> }
  drill.check('the drive is pinned 2+2 on the four nodes', pinCode === 0 && new Set(placement.holds.map(h => h.holder)).size === 4)

  const keyOf = async (n: LiveNode): Promise<string> => ((await (await fetch(new URL('/api/status', n.appUrl))).json()) as { publicKey: string }).publicKey
  const keys = await Promise.all(nodes.map(keyOf))
  const at = (holder: string): number => keys.indexOf(holder)
  const honestAll = await eventually(async () => {
    const s = await status(bootstrap, drive)
    return s.proofs.length === 4 && s.proofs.every(p => !p.failed && p.last.ok && p.challengers === 3)
  }, CATCH_MS)
  drill.check('every holder has proved its shard to the three others, none failed', honestAll)

  const [corrupt, dropper, honest] = placement.holds
  if (corrupt === undefined || dropper === undefined || honest === undefined) throw new Error('placement has fewer than 3 holds')
  // corrupt every byte of one holder's shard on its disk, while it runs
  const cFile = dataFile(dirs[at(corrupt.holder)]!, await shardLog(nodes[at(corrupt.holder)]!, placement.pin.root, corrupt.shard))
  const size = statSync(cFile).size
  const fd = openSync(cFile, 'r+')
  const bytes = b4a.alloc(size)
  readSync(fd, bytes, 0, size, 0)
  for (let i = 0; i < size; i++) bytes[i] = bytes[i]! ^ 0xa5
  writeSync(fd, bytes, 0, size, 0)
  closeSync(fd)
  // another drops its shard's bytes: the file is cut to nothing, the process still claims the slot
  const dFile = dataFile(dirs[at(dropper.holder)]!, await shardLog(nodes[at(dropper.holder)]!, placement.pin.root, dropper.shard))
  const dfd = openSync(dFile, 'r+')
  ftruncateSync(dfd, 0)
  closeSync(dfd)
  drill.step(`corrupted ${size} bytes of shard ${corrupt.shard} on ${corrupt.holder.slice(0, 8)}; cut shard ${dropper.shard} of ${dropper.holder.slice(0, 8)} to 0 bytes`)

  // strangers sign failures of an honest holder and gossip them to every holder
  const dht = new HyperDHT({ bootstrap: parseBootstrap(nodes[0]!.bootstrap), host: '127.0.0.1', firewalled: false })
  const liar = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair: crypto.keyPair() }), store: new Corestore(RAM.reusable()), tier: 'light' })
  await within(liar.start(), 30_000, 'liar start')
  const channels = new ProofChannels(liar)
  channels.start()
  await liar.joinTopic(holdersTopic(), { server: false, client: true })
  await eventually(() => channels.peers().length >= 4, 20_000)
  const lies = [crypto.keyPair(), crypto.keyPair(), crypto.keyPair()].map(k => signVerdict({ kind: 'shard', drive, target: placement.pin.root, stripe: 0, shard: honest.shard, holder: honest.holder, ok: false, reason: 'made up', time: Date.now() + 60_000 }, k))
  for (const peer of channels.peers()) peer.send({ type: 'gossip', verdicts: lies })
  drill.step(`3 strangers gossiped failures of ${honest.holder.slice(0, 8)} to ${channels.peers().length} holders`)

  const t0 = Date.now()
  let last: Status | null = null
  const caught = await eventually(async () => {
    last = await status(bootstrap, drive)
    const row = (k: string): ProofRow | undefined => last?.proofs.find(p => p.holder === k)
    return row(corrupt.holder)?.failed === true && row(dropper.holder)?.failed === true
  }, CATCH_MS)
  const final = last as Status | null
  const row = (k: string): ProofRow | undefined => final?.proofs.find(p => p.holder === k)
  drill.check('the corrupted and the dropping holder are failed by a quorum', caught, `${((Date.now() - t0) / 1000).toFixed(1)} s, bound ${CATCH_MS / 1000} s; reasons: ${row(corrupt.holder)?.last.reason ?? '-'} | ${row(dropper.holder)?.last.reason ?? '-'}`)
  drill.check('the honest holders are not failed, and the strangers\' verdicts do not count', placement.holds.slice(2).every(h => row(h.holder)?.failed === false && row(h.holder)?.failing === 0), JSON.stringify(placement.holds.slice(2).map(h => row(h.holder)?.failing)))
  channels.stop()
  await liar.stop()
  await dht.destroy()
  code = drill.finish()
} catch (err) {
  drill.check('drill ran', false, err instanceof Error ? err.message : String(err))
  code = drill.finish()
} finally {
  for (const n of nodes) await stopLive(n)
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
}
process.exit(code)
