/**
 * What the erasure drills share: the `shadw` command run as a child (its stdout as JSON),
 * and a drive of one random file written to a storage folder the CLI then pins from.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import { driveVersionBytes } from '../../src/cli/drive-erasure.ts'
import { within } from './drill.ts'

const BIN = fileURLToPath(new URL('../../bin/shadw.js', import.meta.url))

// hyperdrive ships no types; the drills write a file through it
interface Drive { key: Uint8Array, core: { length: number }, ready (): Promise<void>, put (path: string, data: Uint8Array): Promise<void>, getBlobs (): Promise<{ core: unknown } | null>, close (): Promise<void> }
const HYPERDRIVE = 'hyperdrive'
const { default: Hyperdrive } = await import(HYPERDRIVE) as { default: new (store: unknown, key?: Uint8Array) => Drive }

/** One `shadw` CLI command; its stdout as JSON. */
export async function cli (args: string[], ms = 120_000): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SHADW_DEBUG: '' } })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const code = await within(new Promise<number | null>(resolve => { child.on('exit', resolve) }), ms, `shadw ${args[0]} ${args[1]}`).catch((e: unknown) => { child.kill('SIGKILL'); throw e })
  if (code !== 0) throw new Error(`shadw ${args.slice(0, 2).join(' ')} exited ${code}: ${err.slice(0, 500)}`)
  return JSON.parse(out) as Record<string, unknown>
}

/** A drive with `/data.bin` of `bytes` random bytes, in storage folder `dir` (closed again): its key and the bytes of its version. */
export async function writeDrive (dir: string, bytes: number): Promise<{ key: string, expected: Uint8Array }> {
  const store = new Corestore(dir)
  const drive = new Hyperdrive(store)
  await drive.ready()
  await drive.put('/data.bin', crypto.randomBytes(bytes))
  const key = b4a.toString(drive.key, 'hex')
  const blobs = await drive.getBlobs()
  const expected = (await driveVersionBytes([drive.core, blobs?.core].filter(c => (c as { length?: number } | undefined)?.length !== undefined && (c as { length: number }).length > 0) as never)).bytes
  await drive.close()
  await store.close()
  return { key, expected }
}
