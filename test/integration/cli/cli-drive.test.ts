import { execFile, spawn } from 'node:child_process'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { Drive } from '../../../src/core/drive/index.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))

/** One user of the CLI: their own config (key store) and data (drive storage) folders. */
async function user (): Promise<NodeJS.ProcessEnv> {
  const home = await tempDir('shadw-user-')
  return { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') }
}

function shadw (env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000, env }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

describe('shadw drive', () => {
  it('create, put (files and folders), ls and get through the swarm while the uploader is offline', async () => {
    const superNode = await startSuperNode()
    const bootstrap = superNode.info.bootstrap.join(',')
    const owner = await user()
    const reader = await user()

    expect((await shadw(owner, 'drive', '--help')).stdout).toMatch(/subcommands:\n {2}create .*\n {2}put .*\n {2}ls .*\n {2}get /)
    expect((await shadw(owner, 'drive', 'get', '--help')).stdout).toMatch(/^usage: shadw drive get <DRIVE>\[@VERSION\]:<PATH>/)

    const created = await shadw(owner, 'drive', 'create')
    expect(created.code).toBe(0)
    const key = created.stdout.trim()
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    const keyFile = join(owner['XDG_CONFIG_HOME'] as string, 'shadw', 'drives', `${key}.json`)
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600)

    const src = await tempDir()
    await mkdir(join(src, 'site', 'img'), { recursive: true })
    await writeFile(join(src, 'site', 'index.html'), '<h1>hello</h1>')
    await writeFile(join(src, 'site', 'img', 'dot.bin'), Buffer.alloc(300_000, 7))
    await writeFile(join(src, 'notes.txt'), 'version one')
    const first = await shadw(owner, 'drive', 'put', key, join(src, 'notes.txt'), '--bootstrap', bootstrap, '--json')
    expect(first.code).toBe(0)
    const v1 = (JSON.parse(first.stdout) as { version: number }).version
    await writeFile(join(src, 'notes.txt'), 'version two')

    // the uploader stays online (--seed) until a super node holds the drive, then goes away
    const seeding = spawn(process.execPath, [BIN, 'drive', 'put', key, join(src, 'notes.txt'), join(src, 'site'), '--to', '/pub', '--seed', '--bootstrap', bootstrap], { env: owner, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    seeding.stdout.on('data', (c: Buffer) => { out += c.toString() })
    const exited = new Promise<number | null>(resolve => seeding.on('exit', resolve))
    for (let i = 0; i < 600 && !/drive [0-9a-f]{64} version \d+\n/.test(out); i++) await new Promise(resolve => setTimeout(resolve, 100))
    expect(out).toMatch(/put \/pub\/site\/img\/dot\.bin \(293\.0 KiB\)/)
    const held = await Drive.open(superNode.node, key)
    await held.download()
    const latest = held.version
    await held.close()
    seeding.kill('SIGTERM')
    expect(await exited).toBe(0)

    const ls = await shadw(reader, 'drive', 'ls', `${key}:/pub`, '--bootstrap', bootstrap, '--json')
    expect(ls.stderr).toBe('')
    const listing = JSON.parse(ls.stdout) as { version: number, entries: Array<{ path: string, kind: string }> }
    expect(listing.version).toBe(latest)
    expect(listing.entries.map(e => [e.path, e.kind])).toEqual([['/pub/notes.txt', 'file'], ['/pub/site', 'dir']])
    const text = await shadw(reader, 'drive', 'ls', key, '--bootstrap', bootstrap)
    expect(text.stdout).toContain(`drive ${key} version ${latest} /`)

    const dest = await tempDir()
    const got = await shadw(reader, 'drive', 'get', `${key}:/pub/site/img/dot.bin`, '-o', join(dest, 'dot.bin'), '--bootstrap', bootstrap)
    expect(got.stderr).toContain('every block verified')
    expect(got.code).toBe(0)
    expect(await readFile(join(dest, 'dot.bin'))).toEqual(Buffer.alloc(300_000, 7))
    const old = await shadw(reader, 'drive', 'get', `${key}@${v1}:/notes.txt`, '-o', '-', '--bootstrap', bootstrap)
    expect(old.stdout).toBe('version one')

    // typed failures
    const missing = await shadw(reader, 'drive', 'get', `${key}:/pub/nope.txt`, '-o', join(dest, 'x'), '--bootstrap', bootstrap)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^shadw: DRIVE_NOT_FOUND: /)
    const climb = await shadw(reader, 'drive', 'get', `${key}:/../x`, '--bootstrap', bootstrap)
    expect(climb.stderr).toMatch(/^shadw: DRIVE_PATH_INVALID: /)
    const badKey = await shadw(reader, 'drive', 'ls', 'abc', '--bootstrap', bootstrap)
    expect(badKey.stderr).toMatch(/^shadw: INVALID_DRIVE_REF: /)
    const notMine = await shadw(reader, 'drive', 'put', key, join(src, 'notes.txt'), '--bootstrap', bootstrap)
    expect(notMine.stderr).toMatch(/is not in your key store/)
  }, 180_000)
})
