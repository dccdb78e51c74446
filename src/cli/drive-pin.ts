/**
 * `shadw drive pin <DRIVE> [--replicas N]` and `shadw drive status <DRIVE>`: a light node on
 * the super node's DHT that places a drive's replicas on holders (returning once they have
 * confirmed, signed, that they hold every log), or asks the holders how the drive stands.
 *
 * `pin` reads the drive from the local store it was written to (`--storage`) and serves its
 * logs to the holders while they fetch; once it returns, the uploader may go offline.
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import type Hypercore from 'hypercore'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwError } from '../core/errors.ts'
import { parseKey } from '../core/keys.ts'
import { ShadwNode } from '../core/node/index.ts'
import { DEFAULT_STANDING_GRACE_MS, describeLogs, driveStatus, MAX_REPLICAS, parseScheme, pinDrive, proofStatus, summarizeProofs, type DriveStatus, type HoldConfirmation, type HolderProof, type PinRequest } from '../core/pinning/index.ts'
import { defaultDir } from '../super-node/data-dir.ts'
import { storageError } from '../super-node/storage-error.ts'
import { DEFAULT_PORT, parseBootstrap } from '../super-node/super-node.ts'
import { DRIVE_PIN_USAGE } from './drive-pin-usage.ts'
import { bootstrapOf } from './invoke.ts'

/** Replicas when `--replicas` is not given: the issue's "3× replication". */
const DEFAULT_REPLICAS = 3
/** Longest wait for one holder to fetch and confirm a drive. */
const DEFAULT_PIN_TIMEOUT_MS = 120_000

// hyperdrive ships no types; the parts used here are its logs
interface DriveLike { core: Hypercore, ready (): Promise<void>, getBlobs (): Promise<{ core: Hypercore } | null>, close (): Promise<void> }
const HYPERDRIVE = 'hyperdrive'

/** Where the command writes; tests pass their own. */
export interface DriveIo {
  stdout (text: string): void
  stderr (text: string): void
  /** true when stderr is a terminal (progress lines) */
  tty: boolean
}

const processIo: DriveIo = { stdout: t => { process.stdout.write(t) }, stderr: t => { process.stderr.write(t) }, tty: process.stderr.isTTY }

/** Runs `shadw drive pin|status`; resolves to the exit code. */
export async function drivePinCommand (argv: string[], io: DriveIo = processIo): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === 'pin') return await pin(rest, io)
  if (sub === 'status') return await status(rest, io)
  io.stderr(`usage:\n${DRIVE_PIN_USAGE}\n`)
  return sub === '--help' || sub === '-h' ? 0 : 2
}

function positiveInt (flag: string, value: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw ShadwError.INVALID_ARGUMENT(`${flag} needs an integer 1-${max}, got ${JSON.stringify(value)}`)
  return Number(value)
}

const NET_OPTIONS = { bootstrap: { type: 'string' }, node: { type: 'string' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } } as const

async function pin (argv: string[], io: DriveIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...NET_OPTIONS, replicas: { type: 'string' }, erasure: { type: 'string' }, storage: { type: 'string' }, timeout: { type: 'string' }, grace: { type: 'string' } }, allowPositionals: true, strict: true })
  if (values.help) { io.stdout(`${DRIVE_PIN_USAGE}\n`); return 0 }
  const [driveArg, ...extra] = positionals
  if (driveArg === undefined || extra.length > 0) throw ShadwError.INVALID_ARGUMENT(`usage: ${DRIVE_PIN_USAGE}`)
  const key = parseKey(driveArg)
  if (values.erasure !== undefined && values.replicas !== undefined) throw ShadwError.INVALID_ARGUMENT('--erasure and --replicas exclude each other')
  const scheme = values.erasure === undefined ? null : parseScheme(values.erasure)
  const replicas = positiveInt('--replicas', values.replicas, DEFAULT_REPLICAS, MAX_REPLICAS)
  const timeoutMs = positiveInt('--timeout', values.timeout, DEFAULT_PIN_TIMEOUT_MS)
  const graceMs = positiveInt('--grace', values.grace, DEFAULT_STANDING_GRACE_MS)
  const bootstrap = await bootstrapFrom(values)
  const dir = values.storage ?? join(defaultDir('data'), 'drives')
  const store = new Corestore(dir)
  await store.ready().catch(async err => { await store.close().catch(() => {}); throw storageError(dir, err) })
  const node = await lightNode(bootstrap, store)
  try {
    if (scheme !== null) {
      const { pinDriveErasure, erasureSummary } = await import('./drive-erasure.ts')
      const { reedSolomon } = await import('../super-node/reed-solomon-node.ts')
      const drive = b4a.toString(key, 'hex')
      // on a terminal, a line per tenth of each pass: hashing every stripe, then sending them
      let shown = ''
      const onprogress = (p: { pass: string, stripe: number, stripes: number }): void => {
        const tenth = `${p.pass} ${Math.floor((p.stripe + 1) * 10 / p.stripes)}`
        if (!io.tty || tenth === shown) return
        shown = tenth
        io.stderr(`${p.pass === 'commit' ? 'hashed' : 'sent'} ${p.stripe + 1}/${p.stripes} stripes\n`)
      }
      const placement = await pinDriveErasure({ node: node.node, rs: reedSolomon(), keyPair: node.keyPair, drive, logs: await localDriveCores(store, key), scheme, timeoutMs, onprogress })
      if (values.json) io.stdout(JSON.stringify({ drive, erasure: `${scheme.k}+${scheme.m}`, pin: placement.pin, holds: placement.holds }, null, 2) + '\n')
      else io.stdout(erasureSummary(placement, { drive }))
      return 0
    }
    const logs = await localDriveLogs(store, key)
    const request: PinRequest = { drive: b4a.toString(key, 'hex'), logs, replicas }
    // the holders find the logs on their topics as well as on our connection to them
    for (const l of logs) await node.node.follow(l.key)
    let held = 0
    const confs = await pinDrive({
      node: node.node,
      request,
      timeoutMs,
      // the holders countersign this node's orders: what makes their storage receipts count
      keyPair: node.keyPair,
      // and its standing order, under which the swarm's re-pins are paid: a holder silent this long may be replaced
      standing: { graceMs },
      onevent: e => {
        if (!io.tty) return
        if (e.state === 'found') io.stderr(`found ${e.holders} holder(s) with room\n`)
        else if (e.state === 'held') io.stderr(`confirmed ${++held}/${replicas}: ${e.holder.slice(0, 16)}…\n`)
        else if (e.state === 'failed') io.stderr(`holder ${e.holder.slice(0, 16)}… did not pin: ${e.message}\n`)
      }
    })
    if (values.json) io.stdout(JSON.stringify({ drive: request.drive, replicas, logs, confirmations: confs }, null, 2) + '\n')
    else io.stdout(pinSummary(request, confs))
    return 0
  } finally {
    await node.stop()
  }
}

async function status (argv: string[], io: DriveIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...NET_OPTIONS, grace: { type: 'string' } }, allowPositionals: true, strict: true })
  if (values.help) { io.stdout(`${DRIVE_PIN_USAGE}\n`); return 0 }
  const [driveArg, ...extra] = positionals
  if (driveArg === undefined || extra.length > 0) throw ShadwError.INVALID_ARGUMENT(`usage: ${DRIVE_PIN_USAGE}`)
  const drive = b4a.toString(parseKey(driveArg), 'hex')
  const graceMs = values.grace === undefined ? undefined : positiveInt('--grace', values.grace, 1)
  const node = await lightNode(await bootstrapFrom(values), new Corestore(RAM.reusable()))
  try {
    const { erasureStatus } = await import('./drive-erasure.ts')
    const [s, erasure, verdicts] = await Promise.all([driveStatus({ node: node.node, drive, ...(graceMs === undefined ? {} : { graceMs }) }), erasureStatus(node.node, drive), proofStatus({ node: node.node, drive })])
    const proofs = summarizeProofs(verdicts, drive, [...s.holders.map(h => h.holder), ...(erasure?.holders.map(h => h.holder) ?? [])])
    // a drive pinned only erasure-coded has no replica holders: its health is its shards'
    if (erasure !== null && s.holders.length === 0) s.health = erasure.health
    if (values.json) io.stdout(JSON.stringify({ ...s, ...(erasure === null ? {} : { weakestStripeLive: erasure.weakestStripeLive, expansion: erasure.expansion, repair: erasure.repair, erasure }), holders: s.holders.map(h => ({ holder: h.holder, confirmedAt: h.confirmedAt, live: h.live, logs: h.confirmation.logs, budget: h.confirmation.budget })), proofs }, null, 2) + '\n')
    else io.stdout(statusSummary(s) + (erasure === null ? '' : `erasure ${erasure.k}+${erasure.m}: ${erasure.health}, ${erasure.weakestStripeLive} of ${erasure.k + erasure.m} shards live in the weakest stripe, ${erasure.expansion}× stored${erasure.repair === null ? '' : `, repair ${erasure.repair}`}, ${erasure.repairs.length} repair(s) recorded\n`) + proofSummary(proofs))
    return 0
  } finally {
    await node.stop()
  }
}

async function bootstrapFrom (values: { bootstrap?: string | undefined, node?: string | undefined }): Promise<string[]> {
  if (values.bootstrap !== undefined && values.node !== undefined) throw ShadwError.INVALID_ARGUMENT('--bootstrap and --node exclude each other')
  return values.bootstrap !== undefined ? values.bootstrap.split(',').filter(Boolean) : await bootstrapOf(values.node ?? `http://127.0.0.1:${DEFAULT_PORT}/`)
}

/** The drive's non-empty logs (db, then blobs), from the local store. @throws ShadwError `LOG_NOT_FOUND` */
async function localDriveCores (store: Corestore, key: Uint8Array): Promise<Hypercore[]> {
  const { default: Hyperdrive } = await import(HYPERDRIVE) as { default: new (store: Corestore, key: Uint8Array) => DriveLike }
  const drive = new Hyperdrive(store, key)
  await drive.ready()
  if (drive.core.length === 0) {
    await drive.close()
    throw ShadwError.LOG_NOT_FOUND(b4a.toString(key, 'hex'))
  }
  const blobs = await drive.getBlobs()
  return [drive.core, ...(blobs === null ? [] : [blobs.core])].filter(c => c.length > 0)
}

/** The drive's logs at their current length, from the local store. @throws ShadwError `LOG_NOT_FOUND` */
async function localDriveLogs (store: Corestore, key: Uint8Array): Promise<PinRequest['logs']> {
  const { default: Hyperdrive } = await import(HYPERDRIVE) as { default: new (store: Corestore, key: Uint8Array) => DriveLike }
  const drive = new Hyperdrive(store, key)
  await drive.ready()
  if (drive.core.length === 0) {
    await drive.close()
    throw ShadwError.LOG_NOT_FOUND(b4a.toString(key, 'hex'))
  }
  const blobs = await drive.getBlobs()
  // an empty blobs log (a drive of empty files) has nothing to hold
  return (await describeLogs([drive.core, ...(blobs === null ? [] : [blobs.core])])).filter(l => l.length > 0)
}

async function lightNode (bootstrap: string[], store: Corestore): Promise<{ node: ShadwNode, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, stop (): Promise<void> }> {
  const entries = parseBootstrap(bootstrap)
  // a DHT on loopback needs every node bound to 127.0.0.1 (see super-node.ts)
  const loopback = entries.every(e => e.host === '127.0.0.1' || e.host === 'localhost')
  const dht = new HyperDHT(loopback ? { bootstrap: entries, host: '127.0.0.1' } : { bootstrap: entries })
  const keyPair = crypto.keyPair()
  const swarm = new Hyperswarm({ dht, keyPair })
  const node = new ShadwNode({ swarm, store, tier: 'light' })
  const stop = async (): Promise<void> => { await node.stop().catch(() => {}); await dht.destroy() }
  try {
    await node.start()
  } catch (err) {
    await stop()
    throw err
  }
  return { node, keyPair, stop }
}

function pinSummary (req: PinRequest, confs: HoldConfirmation[]): string {
  const bytes = req.logs.reduce((s, l) => s + l.byteLength, 0)
  return [`pinned ${req.drive} (${req.logs.length} logs, ${bytes} bytes) on ${confs.length} holder(s):`, ...confs.map(c => `  ${c.holder}  confirmed ${new Date(c.time).toISOString()}`), ''].join('\n')
}

/** Per holder: its last storage proof, and whether a quorum of challengers fails it. */
function proofSummary (proofs: HolderProof[]): string {
  if (proofs.length === 0) return ''
  return ['proofs:', ...proofs.map(p => `  ${p.holder}  last ${p.last.ok ? 'passed' : `failed (${p.last.reason})`} ${new Date(p.last.time).toISOString()}, ${p.failing} of ${p.challengers} challengers failing${p.failed ? ': FAILED' : ''}`), ''].join('\n')
}

function statusSummary (s: DriveStatus): string {
  return [
    `drive ${s.drive}: ${s.health} (${s.holders.filter(h => h.live).length} of ${s.replicas} replicas live)`,
    ...s.holders.map(h => `  ${h.holder}  ${h.live ? 'live' : 'gone'}  last confirmed ${new Date(h.confirmedAt).toISOString()}`),
    ''
  ].join('\n')
}
