import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import Corestore from 'corestore'
import { describe, expect, it, onTestFinished } from 'vitest'
import { drivePinCommand, type DriveIo } from '../../../src/cli/drive-pin.ts'
import { keyedNode } from '../../helpers/holders.ts'
import { tempDir } from '../../helpers/super-node.ts'
import { testnet } from '../../helpers/testnet.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))
const GRACE_MS = 2_000

// hyperdrive ships no types; the test writes and reads files through it
interface Drive { key: Uint8Array, ready (): Promise<void>, put (path: string, data: Uint8Array): Promise<void>, get (path: string): Promise<Uint8Array | null>, getBlobs (): Promise<{ core: { key: Uint8Array | null } }>, close (): Promise<void> }
const HYPERDRIVE = 'hyperdrive'
const { default: Hyperdrive } = await import(HYPERDRIVE) as { default: new (store: unknown, key?: Uint8Array) => Drive }

interface HolderProcess { child: ChildProcess, publicKey: string, exit: Promise<unknown> }

/** A storm-tier holder as its own process, on the test's DHT. */
async function startHolder (bootstrap: string, storage: string): Promise<HolderProcess> {
  const child = spawn(process.execPath, [BIN, 'start', '--tier', 'storm', '--disk-budget', '64MiB', '--workers', '0', '--port', '0', '--storage', storage, '--bootstrap', bootstrap, '--repin-grace', String(GRACE_MS)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SHADW_DEBUG: '' } })
  onTestFinished(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const exit = new Promise(resolve => { child.on('exit', resolve) })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  for (let i = 0; i < 600 && !out.includes('press Ctrl-C to stop'); i++) {
    if (child.exitCode !== null) break
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  const publicKey = /public key:\s+([0-9a-f]{64})/.exec(out)?.[1]
  if (publicKey === undefined || !out.includes('holder:     disk budget 67108864 bytes')) throw new Error(`holder did not start:\n${out}`)
  return { child, publicKey, exit }
}

function io (): DriveIo & { out: () => string, err: () => string, onerr: (fn: (t: string) => void) => void } {
  let out = ''
  let err = ''
  const listeners: Array<(t: string) => void> = []
  return { stdout: t => { out += t }, stderr: t => { err += t; for (const fn of listeners) fn(t) }, tty: true, out: () => out, err: () => err, onerr: fn => { listeners.push(fn) } }
}

/** A hyperdrive with one file, written into its own storage directory and closed again. */
async function writeDrive (file: Uint8Array): Promise<{ dir: string, key: string, logs: string[] }> {
  const dir = await tempDir()
  const store = new Corestore(dir)
  const drive = new Hyperdrive(store)
  await drive.ready()
  await drive.put('/data.bin', file)
  const blobs = await drive.getBlobs()
  const out = { dir, key: b4a.toString(drive.key, 'hex'), logs: [b4a.toString(drive.key, 'hex'), b4a.toString(blobs.core.key!, 'hex')] }
  await drive.close()
  await store.close()
  return out
}

async function status (bootstrap: string, key: string): Promise<{ replicas: number, health: string, holders: Array<{ holder: string, live: boolean }> }> {
  const o = io()
  expect(await drivePinCommand(['status', key, '--bootstrap', bootstrap, '--grace', String(GRACE_MS), '--json'], o)).toBe(0)
  return JSON.parse(o.out())
}

async function waitForStatus (bootstrap: string, key: string, done: (s: Awaited<ReturnType<typeof status>>) => boolean): Promise<Awaited<ReturnType<typeof status>>> {
  let s = await status(bootstrap, key)
  for (let i = 0; i < 30 && !done(s); i++) {
    await new Promise(resolve => setTimeout(resolve, 500))
    s = await status(bootstrap, key)
  }
  return s
}

describe('shadw drive pin and status against holder processes', () => {
  it('pins with a third of the holders killed mid-upload, reads with one killed mid-read, and re-pins a lost replica with the uploader gone', async () => {
    const net = await testnet()
    const bootstrap = `127.0.0.1:${net.bootstrap[0]!.port}`
    const holders = await Promise.all([0, 1, 2].map(async () => await startHolder(bootstrap, await tempDir())))
    const file = b4a.alloc(6 * 1024 * 1024)
    for (let i = 0; i < file.byteLength; i += 4096) file[i] = i % 251
    const drive = await writeDrive(file)

    // mid-upload: placement asks the two lowest keys first (equal offers); kill -9 the lowest once holders are found
    const sorted = [...holders].sort((a, b) => a.publicKey < b.publicKey ? -1 : 1)
    const victim = sorted[0]!
    const pinIo = io()
    pinIo.onerr(t => { if (t.startsWith('found ')) victim.child.kill('SIGKILL') })
    expect(await drivePinCommand(['pin', drive.key, '--replicas', '2', '--storage', drive.dir, '--bootstrap', bootstrap, '--json'], pinIo)).toBe(0)
    await victim.exit
    const pinned = JSON.parse(pinIo.out()) as { confirmations: Array<{ holder: string }>, logs: Array<{ key: string }> }
    const confirmed = pinned.confirmations.map(c => c.holder).sort()
    // acknowledged only by holders that are alive: the pin moved on from the killed one
    expect(confirmed).toEqual([sorted[1]!.publicKey, sorted[2]!.publicKey])
    expect(pinned.logs.map(l => l.key)).toEqual(drive.logs)
    expect(pinIo.err()).toMatch(/confirmed 2\/2/)

    // the uploader is gone (the command returned and closed its store); status sees both holders
    const healthy = await waitForStatus(bootstrap, drive.key, s => s.health === 'healthy' && s.holders.length === 2)
    expect(healthy).toMatchObject({ replicas: 2, health: 'healthy' })

    // mid-read: a reader fetches the file while one of the two holders is killed; it completes from the rest
    const reader = await keyedNode(net, { tier: 'light' })
    const readDrive = new Hyperdrive(reader.store, b4a.from(drive.key, 'hex'))
    await readDrive.ready()
    for (const k of drive.logs) await reader.node.follow(k)
    const reading = readDrive.get('/data.bin')
    const second = sorted[1]!
    setTimeout(() => { second.child.kill('SIGKILL') }, 50)
    const got = await reading
    expect(got !== null && b4a.equals(got, file)).toBe(true)
    await second.exit
    await readDrive.close()

    // one holder left of two: once the killed one is past the grace period, the survivor
    // re-pins its replica onto a new holder, with the uploader still offline
    const fresh = await startHolder(bootstrap, await tempDir())
    // (the killed holder counts as live until its last confirmation is a grace period old: wait past that)
    const after = await waitForStatus(bootstrap, drive.key, s => s.holders.filter(h => h.live).length === 2 && s.holders.every(h => h.holder !== second.publicKey || !h.live))
    expect(after.health).toBe('healthy')
    expect(after.holders.filter(h => h.live).map(h => h.holder).sort()).toEqual([sorted[2]!.publicKey, fresh.publicKey].sort())
    expect(after.holders.find(h => h.holder === second.publicKey)?.live).toBe(false)
  }, 150_000)

  it('refuses typed: too few holders, a drive not in the store, bad flags', async () => {
    const net = await testnet()
    const bootstrap = `127.0.0.1:${net.bootstrap[0]!.port}`
    const drive = await writeDrive(b4a.from('hello'))
    await expect(drivePinCommand(['pin', drive.key, '--replicas', '2', '--storage', drive.dir, '--bootstrap', bootstrap], io())).rejects.toMatchObject({ code: 'NOT_ENOUGH_HOLDERS' })
    await expect(drivePinCommand(['pin', 'ab'.repeat(32), '--storage', drive.dir, '--bootstrap', bootstrap], io())).rejects.toMatchObject({ code: 'LOG_NOT_FOUND' })
    await expect(drivePinCommand(['pin', drive.key, '--replicas', '0', '--bootstrap', bootstrap], io())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(drivePinCommand(['pin', 'nope', '--bootstrap', bootstrap], io())).rejects.toMatchObject({ code: 'INVALID_LOG_KEY' })
    const help = io()
    expect(await drivePinCommand(['pin', '--help'], help)).toBe(0)
    expect(help.out()).toContain('shadw drive pin <DRIVE> [--replicas N | --erasure K+M]')
    const s = await status(bootstrap, drive.key)
    expect(s).toMatchObject({ replicas: 0, health: 'lost', holders: [] })
  }, 90_000)
})
