/**
 * `shadw drive put` and `shadw drive get`: files stream between the disk and the drive in
 * blocks (a file of any size passes through a bounded buffer), with a progress bar on a
 * terminal.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { lstat, readdir, rename, rm } from 'node:fs/promises'
import { basename, join, relative, sep } from 'node:path'
import { parseArgs } from 'node:util'
import { checkBlockSize, DRIVE_BLOCK_BYTES, joinDrivePath, parseDriveKey, parseDriveRef, type Drive } from '../core/drive/index.ts'
import { ShadwError } from '../core/errors.ts'
import { keyToHex } from '../core/keys.ts'
import { GRANT_OPTIONS, openUserDrive } from './drive-commands.ts'
import { DRIVE_NODE_OPTIONS, startDriveNode } from './drive-node.ts'
import { formatBytes, Progress } from './byte-progress.ts'

/** Most files one `put` uploads: a folder of more is split by the user, not walked without end. */
const MAX_PUT_FILES = 100_000

/** Bytes `drive get` buffers for the output file before waiting for the disk (16 blob blocks). */
const WRITE_BUFFER_BYTES = 1024 * 1024

interface Upload { from: string, to: string, size: number }

/** `--block-size`: bytes, or a number with KiB (`4KiB`). */
function parseBlockSize (v: string | undefined): number {
  if (v === undefined) return DRIVE_BLOCK_BYTES
  const m = /^(\d+)(KiB)?$/.exec(v)
  if (m === null) throw ShadwError.INVALID_ARGUMENT(`--block-size takes bytes or KiB (4KiB to 64KiB, a power of two), got ${JSON.stringify(v.slice(0, 40))}`)
  return checkBlockSize(Number(m[1]) * (m[2] === undefined ? 1 : 1024))
}

/** `shadw drive put <DRIVE> <PATH>... [--to DIR] [--block-size SIZE] [--seed]`. */
export async function putCommand (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...DRIVE_NODE_OPTIONS, to: { type: 'string', default: '/' }, 'block-size': { type: 'string' }, seed: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true
  })
  const [keyArg, ...paths] = positionals
  if (keyArg === undefined || paths.length === 0) throw ShadwError.INVALID_ARGUMENT('usage: shadw drive put <DRIVE> <PATH>... [--to DIR]')
  const key = keyToHex(parseDriveKey(keyArg))
  // a dataset read in small scattered pieces (a mounted index, a table) is written in small
  // blocks, so a 4 KiB read moves about 4 KiB (docs/storage.md, Mounts)
  const blockSize = parseBlockSize(values['block-size'])
  const uploads: Upload[] = []
  for (const p of paths) await collect(p, values.to, uploads)
  const total = uploads.reduce((n, u) => n + u.size, 0)

  const client = await startDriveNode(values)
  try {
    const drive = await openUserDrive(client.node, key, { needWritable: true })
    try {
      const progress = new Progress('put', total)
      let before = 0
      const done: Array<{ path: string, size: number, version: number }> = []
      for (const u of uploads) {
        progress.relabel(u.to)
        const r = await drive.put(u.to, createReadStream(u.from, { highWaterMark: 256 * 1024 }), { blockSize, onProgress: n => { progress.update(before + n) } })
        before += r.size
        done.push(r)
      }
      progress.done()
      if (values.json) process.stdout.write(JSON.stringify({ key, version: drive.version, bytes: total, files: done }, null, 2) + '\n')
      else {
        for (const f of done) process.stdout.write(`put ${f.path} (${formatBytes(f.size)}) v${f.version}\n`)
        process.stdout.write(`drive ${key} version ${drive.version}\n`)
      }
      if (values.seed) await seed(drive)
    } finally {
      await drive.close()
    }
  } finally {
    await client.stop()
  }
  return 0
}

/** Stays online serving the drive to peers until SIGINT/SIGTERM. */
async function seed (drive: Drive): Promise<void> {
  await new Promise<void>(resolve => {
    const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve() }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    process.stderr.write(`seeding drive ${drive.key}; Ctrl-C to stop\n`)
  })
}

/** Adds `path` (a file, or a folder walked recursively) to the uploads under drive folder `to`. */
async function collect (path: string, to: string, out: Upload[]): Promise<void> {
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => { throw ShadwError.INVALID_ARGUMENT(`cannot read ${path}: ${err.code ?? err.message}`) })
  if (st.isFile()) {
    out.push({ from: path, to: joinDrivePath(to, basename(path)), size: st.size })
  } else if (st.isDirectory()) {
    const root = basename(path.replace(/[/\\]+$/, '')) || '.'
    for (const e of await readdir(path, { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue // symlinks and devices are not uploaded
      if (out.length >= MAX_PUT_FILES) throw ShadwError.INVALID_ARGUMENT(`more than ${MAX_PUT_FILES} files in one put`)
      const file = join(e.parentPath, e.name)
      const rel = relative(path, file).split(sep).join('/')
      out.push({ from: file, to: joinDrivePath(to, root === '.' ? rel : `${root}/${rel}`), size: (await lstat(file)).size })
    }
  } else {
    throw ShadwError.INVALID_ARGUMENT(`${path} is neither a file nor a folder`)
  }
  if (out.length > MAX_PUT_FILES) throw ShadwError.INVALID_ARGUMENT(`more than ${MAX_PUT_FILES} files in one put`)
}

/** `shadw drive get <DRIVE>[@VERSION]:<PATH> [-o OUT|-]`. */
export async function getCommand (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...DRIVE_NODE_OPTIONS, ...GRANT_OPTIONS, output: { type: 'string', short: 'o' }, 'encryption-key': { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true
  })
  const [refArg, ...extra] = positionals
  if (refArg === undefined || extra.length > 0) throw ShadwError.INVALID_ARGUMENT('usage: shadw drive get <DRIVE>[@VERSION]:<PATH> [-o OUT|-]')
  const ref = parseDriveRef(refArg, { needPath: true })
  const path = ref.path as string
  const out = values.output ?? basename(path)
  if (values.json && out === '-') throw ShadwError.INVALID_ARGUMENT('--json prints a summary on stdout: give -o FILE')

  const client = await startDriveNode(values)
  try {
    const drive = await openUserDrive(client.node, ref.key, { encryptionKeyHex: values['encryption-key'], grant: values.grant, auth: values.auth })
    try {
      const version = ref.version ?? drive.version
      const entry = await drive.entry(path, { version })
      if (entry === null || entry.kind !== 'file') throw ShadwError.DRIVE_NOT_FOUND(`no file ${path} in drive ${ref.key} at version ${version}`, { key: ref.key, path })
      const progress = new Progress(`get ${path}`, entry.size)
      let bytes = 0
      const source = drive.read(path, { version })
      if (out === '-') {
        for await (const chunk of source) {
          bytes += chunk.byteLength
          if (!process.stdout.write(chunk)) await new Promise(resolve => process.stdout.once('drain', resolve))
        }
      } else {
        // into a temporary name first: a failed or interrupted get leaves no partial file behind
        const tmp = `${out}.shadw-partial`
        try {
          await new Promise<void>((resolve, reject) => {
            // at the default 16 KiB every 64 KiB block filled the buffer and waited for a drain
            // before the next; a window of blocks lets disk writes overlap the fetch
            const ws = createWriteStream(tmp, { flags: 'w', highWaterMark: WRITE_BUFFER_BYTES })
            ws.on('error', reject)
            void (async () => {
              for await (const chunk of source) {
                bytes += chunk.byteLength
                progress.update(bytes)
                if (!ws.write(chunk)) await new Promise<void>(resolve => { ws.once('drain', () => { resolve() }) })
              }
              ws.end(resolve)
            })().catch(reject)
          })
          await rename(tmp, out)
        } catch (err) {
          await rm(tmp, { force: true })
          throw err
        }
      }
      progress.done()
      const summary = { key: ref.key, version, path, bytes, output: out }
      if (values.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n')
      else process.stderr.write(`got ${path} (${formatBytes(bytes)}) from drive ${ref.key} version ${version}${out === '-' ? '' : ` into ${out}`}; every block verified\n`)
    } finally {
      await drive.close()
    }
  } finally {
    await client.stop()
  }
  return 0
}
