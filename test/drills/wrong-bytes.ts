/**
 * Drill: a shard holder that answers its proofs but serves wrong bytes, among live `shadw
 * start` holders (a short grace, live proofs). The liar (in this process: an honest keeper
 * and prover, a live heartbeat, every `get` flipped under its signature) and three honest
 * holders take the four slots of `shadw drive pin --erasure 2+2`; a spare starts after.
 * Checks: the read is exact and yields a signed served-wrong record; the holders take it and
 * repair the liar's slot onto the spare; the next read asks the liar nothing; `shadw drive
 * status --json` is healthy again with the liar excluded; each co-holder's storage ledger
 * holds the record (read once it is killed).
 *
 *   node --import tsx test/drills/wrong-bytes.ts   (or: npm run drills -- wrong-bytes)
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import createTestnet from 'hyperdht/testnet'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { readLedger, STORAGE_LEDGER_LOG_NAME, type ServedWrong } from '../../src/core/ledger/index.ts'
import { ShadwNode } from '../../src/core/node/shadw-node.ts'
import { findErasurePin, holdersTopic, readErasure, type ErasurePlacement } from '../../src/core/pinning/index.ts'
import { reedSolomon } from '../../src/super-node/reed-solomon-node.ts'
import { wrongHolder } from '../helpers/wrong-holder.ts'
import { cli, writeDrive } from './drill-cli.ts'
import { Drill, eventually, within } from './drill.ts'
import { killLive, startLive, type LiveNode } from './live-node.ts'

/** A holder silent this long is lost (short, for the drill). */
const GRACE_MS = 3_000
/** Honest holders: three placed beside the liar (2 + 2), one spare started after the pin. */
const HOLDERS = 4
const FILE_BYTES = 1024 * 1024

const drill = new Drill('a holder that proves honestly but serves wrong bytes: caught, excluded, repaired')
const net = await createTestnet(3, { host: '127.0.0.1' })
const bootstrap = net.bootstrap.map(b => `${b.host}:${b.port}`).join(',')
const dirs: string[] = []
const holders: LiveNode[] = []
const readerKeys = crypto.keyPair()
const reader = new ShadwNode({ swarm: new Hyperswarm({ dht: new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' }), keyPair: readerKeys }), store: new Corestore(RAM.reusable()), tier: 'light' })
const liarKeys = crypto.keyPair()
// Not firewalled, as `shadw start` on a loopback DHT: a fresh DHT node cannot tell it is
// reachable on loopback and calls itself firewalled, so the other processes (the CLI pinner,
// the live holders) holepunch to it and the connection opens on their side only: the pinner
// never gets its offer and finds only the live holders.
const liarNode = new ShadwNode({ swarm: new Hyperswarm({ dht: new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1', firewalled: false }), keyPair: liarKeys }), store: new Corestore(RAM.reusable()), tier: 'storm' })
let liar: ReturnType<typeof wrongHolder> | null = null
let code = 1
try {
  await within(Promise.all([reader.start(), liarNode.start()]), 30_000, 'reader and liar start')
  liar = wrongHolder(liarNode, liarKeys, reedSolomon(), GRACE_MS)
  await liarNode.joinTopic(holdersTopic(), { server: true, client: true })
  for (let i = 0; i < HOLDERS + 1; i++) dirs.push(await mkdtemp(join(tmpdir(), 'shadw-drill-wrong-')))
  // the first alone (it rebuilds a stale lib/ that the others would race on), then the rest
  holders.push(await startLive(dirs[0]!, ['--bootstrap', bootstrap, '--repin-grace', String(GRACE_MS), '--disk-budget', '64MiB', '--proof-interval', '300'], { workers: 0 }))
  holders.push(...await Promise.all(dirs.slice(1, HOLDERS - 1).map(async d => await startLive(d, ['--bootstrap', bootstrap, '--repin-grace', String(GRACE_MS), '--disk-budget', '64MiB', '--proof-interval', '300'], { workers: 0 }))))
  drill.step(`${HOLDERS - 1} holders up and the liar ${liarNode.publicKey.slice(0, 8)}`)

  const dir = dirs[HOLDERS]!
  const { key, expected } = await writeDrive(dir, FILE_BYTES)
  const pinned = await cli(['drive', 'pin', key, '--erasure', '2+2', '--storage', dir, '--bootstrap', bootstrap, '--json']) as unknown as ErasurePlacement
  drill.check('the liar is placed', pinned.holds.some(h => h.holder === liarNode.publicKey), pinned.holds.map(h => `${h.shard}:${h.holder.slice(0, 8)}`).join(' '))
  const liarShard = pinned.holds.find(h => h.holder === liarNode.publicKey)?.shard ?? -1
  // the spare, for the repair: up only now, so the pin had to take the liar
  holders.push(await startLive(dirs[HOLDERS - 1]!, ['--bootstrap', bootstrap, '--repin-grace', String(GRACE_MS), '--disk-budget', '64MiB', '--proof-interval', '300'], { workers: 0 }))

  const found = async (): Promise<ErasurePlacement | null> => await findErasurePin({ node: reader, drive: key, discoverMs: 2_000 })
  const records: ServedWrong[] = []
  const first = await readErasure({ node: reader, rs: reedSolomon(), placement: pinned, keyPair: readerKeys, discoverMs: 3_000, onwrong: w => { if (w.record !== null) records.push(w.record) } })
  drill.check('the read is exact despite the liar', Buffer.compare(first, expected) === 0)
  drill.check('the read signs one served-wrong record on the liar', records.length === 1 && records[0]?.answer.holder === liarNode.publicKey, `${records.length} record(s)`)
  const asked = liar.gets()

  let repaired: ErasurePlacement | null = null
  await eventually(async () => {
    repaired = await found()
    return repaired !== null && repaired.holds.length === 4 && !repaired.holds.some(h => h.holder === liarNode.publicKey) && (repaired.wrong ?? []).length > 0
  }, 90_000).catch(() => {})
  const p = repaired as ErasurePlacement | null
  drill.check('the holders keep the record and repair the liar\'s slot onto another holder', p !== null && p.holds.length === 4 && p.holds.find(h => h.shard === liarShard)?.holder !== liarNode.publicKey && (p.wrong ?? []).some(r => r.answer.holder === liarNode.publicKey), (p?.holds ?? []).map(h => `${h.shard}:${h.holder.slice(0, 8)}`).join(' '))
  const again = p === null ? null : await readErasure({ node: reader, rs: reedSolomon(), placement: { ...p, holds: [...p.holds, pinned.holds.find(h => h.shard === liarShard)!] }, discoverMs: 2_000 })
  drill.check('the next read is exact and asks the liar nothing', again !== null && Buffer.compare(again, expected) === 0 && liar.gets() === asked, `gets ${asked} → ${liar.gets()}`)
  const status = await cli(['drive', 'status', key, '--bootstrap', bootstrap, '--json'])
  const excluded = (status.erasure as { excluded?: string[] } | undefined)?.excluded
  drill.check('status: healthy, 4 live in the weakest stripe, the liar excluded', status.health === 'healthy' && status.weakestStripeLive === 4 && excluded?.includes(liarNode.publicKey) === true, `${String(status.health)}, ${String(status.weakestStripeLive)}, excluded ${JSON.stringify(excluded)}`)
  // each co-holder's storage ledger holds the record: read from its storage once it is killed
  // (a SIGKILL keeps what was appended; the three placed with the liar are the first three)
  for (const h of holders) await killLive(h)
  const inLedgers: string[] = []
  for (const d of dirs.slice(0, HOLDERS - 1)) {
    const s = new Corestore(d)
    const core = s.get({ name: STORAGE_LEDGER_LOG_NAME })
    await core.ready()
    const entries = await readLedger(core as never)
    inLedgers.push(`${entries.filter(e => e.kind === 'served-wrong' && e.record.answer.holder === liarNode.publicKey).length}/${entries.length}`)
    await s.close()
  }
  drill.check('every co-holder placed with the liar has the record in its storage ledger', inLedgers.every(x => !x.startsWith('0/')), `served-wrong/entries: ${inLedgers.join(' ')}`)
  code = drill.finish()
} catch (err) {
  drill.check('the drill ran to the end', false, err instanceof Error ? err.message : String(err))
  code = drill.finish()
} finally {
  liar?.stop()
  for (const h of holders) if (h.child.exitCode === null && h.child.signalCode === null) await killLive(h)
  await reader.stop().catch(() => {})
  await liarNode.stop().catch(() => {})
  await net.destroy()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
}
process.exit(code)
