import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { tempDir } from '../../helpers/super-node.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))

interface Run { child: ChildProcess, stdout: () => string, stderr: () => string, exit: Promise<number | null> }

function shadw (args: string[]): Run {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SHADW_DEBUG: '' } })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const exit = new Promise<number | null>(resolve => { child.on('exit', code => { resolve(code) }) })
  onTestFinished(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  return { child, stdout: () => out, stderr: () => err, exit }
}

function rawStatus (base: string, path: string): Promise<number | undefined> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    request({ host: url.hostname, port: url.port, path, method: 'GET' }, res => { res.resume(); resolve(res.statusCode) }).on('error', reject).end()
  })
}

async function waitFor (what: string, fn: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

describe('shadw start', () => {
  it('runs a super node on an embedded DHT, serves status and the app, and stops cleanly on SIGINT', async () => {
    const storage = await tempDir()
    const run = shadw(['start', '--port', '0', '--storage', storage, '--no-examples', '--memory-budget', '64MiB'])
    await waitFor('the startup banner', () => run.stdout().includes('press Ctrl-C to stop'))
    const out = run.stdout()
    const app = /app:\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1]
    const relay = /relay:\s+(ws:\/\/127\.0\.0\.1:\d+\/relay)/.exec(out)?.[1]
    const bootstrap = /bootstrap:\s+(127\.0\.0\.1:\d+)/.exec(out)?.[1]
    const publicKey = /public key:\s+([0-9a-f]{64})/.exec(out)?.[1]
    expect([app, relay, bootstrap, publicKey].every(v => v !== undefined)).toBe(true)

    const status = await (await fetch(new URL('/api/status', app))).json() as Record<string, unknown>
    // what hostile clients may make it buffer, in all, is the operator's to set
    expect(status['memory']).toMatchObject({ limit: 64 * 1024 * 1024, used: 0 })
    const ledger = /executor:\s+\d+ slots, ledger ([0-9a-f]{64})/.exec(out)?.[1]
    const misses = /, misses ([0-9a-f]{64})/.exec(out)?.[1]
    // a fresh super node holds two logs: the empty ledger its executor service appends receipts
    // to, each with its price, and the log of the miss records it signs as a caller (docs/pricing.md)
    expect(status).toMatchObject({
      publicKey,
      relayUrl: relay,
      bootstrap: [bootstrap],
      tier: 'super',
      peers: []
    })
    // the logs are created at once, so any may be listed first; a super node holds pinned
    // drives by default, so it keeps a storage ledger too
    expect(status['logs']).toHaveLength(3)
    expect(status['logs']).toEqual(expect.arrayContaining([
      expect.objectContaining({ key: ledger, name: 'ledger', length: 0, writable: true }),
      expect.objectContaining({ key: misses, name: 'misses', length: 0, writable: true }),
      expect.objectContaining({ name: 'storage-ledger', length: 0, writable: true })
    ]))
    const page = await fetch(app!)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<div id="app"></div>')
    expect((await fetch(new URL('/api/nope', app))).status).toBe(404)
    // fetch() normalises dot segments away, so a raw request is what an attacker would send;
    // the repository's package.json sits right above dist/ and must not be served
    expect(await rawStatus(app!, '/../package.json')).toBe(404)
    expect(await rawStatus(app!, '/%2e%2e/package.json')).toBe(404)
    expect(await rawStatus(app!, '/..%2fpackage.json')).toBe(403)

    run.child.kill('SIGINT')
    expect(await run.exit).toBe(0)
    expect(run.stdout()).toContain('stopped\n')

    // the identity lives in the storage: a restart on the same directory keeps it
    const again = shadw(['start', '--port', '0', '--storage', storage])
    await waitFor('the second startup banner', () => again.stdout().includes('press Ctrl-C to stop'))
    expect(/public key:\s+([0-9a-f]{64})/.exec(again.stdout())?.[1]).toBe(publicKey)
    again.child.kill('SIGTERM')
    expect(await again.exit).toBe(0)
  })

  it('refuses a malformed bootstrap, an unreachable one, and a busy storage directory with typed errors', async () => {
    const bad = shadw(['start', '--port', '0', '--storage', await tempDir(), '--bootstrap', 'not a host'])
    expect(await bad.exit).toBe(1)
    expect(bad.stderr()).toBe('shadw: INVALID_BOOTSTRAP: bootstrap must be host:port, got "not a host"\n')

    const unreachable = shadw(['start', '--port', '0', '--storage', await tempDir(), '--bootstrap', '127.0.0.1:9'])
    expect(await unreachable.exit).toBe(1)
    expect(unreachable.stderr()).toMatch(/^shadw: BOOTSTRAP_UNREACHABLE: no DHT bootstrap node answered \(127\.0\.0\.1:9\)\nhint: is a super node running\? `npm start` \(or `shadw start`\) starts one; --node URL names another\n$/)

    const tiny = shadw(['start', '--port', '0', '--storage', await tempDir(), '--memory-budget', '10'])
    expect(await tiny.exit).toBe(1)
    expect(tiny.stderr()).toBe('shadw: INVALID_ARGUMENT: --memory-budget must be at least 1MiB, got "10"\n')

    const storage = await tempDir()
    const first = shadw(['start', '--port', '0', '--storage', storage])
    await waitFor('the first node', () => first.stdout().includes('press Ctrl-C to stop'))
    const second = shadw(['start', '--port', '0', '--storage', storage])
    expect(await second.exit).toBe(1)
    expect(second.stderr()).toBe(`shadw: STORAGE_LOCKED: storage is in use by another context: ${storage}\nhint: a running \`shadw start\` holds this storage: stop it (Ctrl-C), run this command, start it again; or pass --storage DIR\n`)
    first.child.kill('SIGINT')
    expect(await first.exit).toBe(0)
  })

  it('prints usage for unknown commands and flags', async () => {
    const unknown = shadw(['frobnicate'])
    expect(await unknown.exit).toBe(2)
    expect(unknown.stderr()).toContain('shadw: unknown command "frobnicate"')
    const badFlag = shadw(['start', '--nope'])
    expect(await badFlag.exit).toBe(2)
    expect(badFlag.stderr()).toContain("Unknown option '--nope'")
  })
})
