import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { EXAMPLE_KEY_FILE, readExamples } from '../../../src/cli/examples-publish.ts'
import { tempDir } from '../../helpers/super-node.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))

function start (args: string[]): { stdout: () => string, stop: () => Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exit = new Promise<number | null>(resolve => { child.on('exit', code => { resolve(code) }) })
  onTestFinished(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  return { stdout: () => out, stop: async () => { child.kill('SIGINT'); return await exit } }
}

async function banner (run: { stdout: () => string }): Promise<string> {
  const deadline = Date.now() + 60_000
  while (!run.stdout().includes('press Ctrl-C to stop')) {
    if (Date.now() > deadline) throw new Error(`no banner: ${run.stdout()}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return run.stdout()
}

describe('shadw start with empty storage', () => {
  it('publishes the examples under a local example publisher, and each answers its documented input through /fn', { timeout: 120_000 }, async () => {
    const storage = await tempDir()
    const examples = await readExamples()
    const run = start(['--storage', storage])
    const out = await banner(run)
    const app = /app:\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1] as string
    const publisher = /examples:\s+6 published by the local example publisher .*\n\s+([0-9a-f]{64})\/<name>@<version>:/.exec(out)?.[1] as string
    expect(publisher).toMatch(/^[0-9a-f]{64}$/)
    for (const e of examples) expect(out).toContain(`${`${e.name}@${e.version}`.padEnd(22)}${e.title}\n`)
    expect(out).toContain(`  try:        curl --data-binary hello ${app}fn/${publisher}/sha256@1.0.0\n`)
    // the key is the node's, kept in its storage, not the user's
    expect(existsSync(join(storage, EXAMPLE_KEY_FILE))).toBe(true)

    for (const e of examples) {
      const res = await fetch(new URL(`/fn/${publisher}/${e.name}@^1`, app), { method: 'POST', body: Buffer.from(e.input) })
      expect({ name: e.name, status: res.status, output: Buffer.from(await res.arrayBuffer()) }).toEqual({ name: e.name, status: 200, output: Buffer.from(e.output) })
      expect(JSON.parse(res.headers.get('shadw-receipts') as string)).toHaveLength(1)
    }
    expect(await run.stop()).toBe(0)

    // a second start on the same storage publishes nothing and still serves them
    const again = start(['--storage', storage])
    const second = await banner(again)
    expect(second).not.toContain('examples:')
    const app2 = /app:\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(second)?.[1] as string
    const res = await fetch(new URL(`/fn/${publisher}/rot13@1.0.0`, app2), { method: 'POST', body: 'Uryyb' })
    expect(await res.text()).toBe('Hello')
    expect(await again.stop()).toBe(0)
  })

  it('publishes nothing with --no-examples', async () => {
    const storage = await tempDir()
    const run = start(['--storage', storage, '--no-examples'])
    expect(await banner(run)).not.toContain('examples:')
    expect(existsSync(join(storage, EXAMPLE_KEY_FILE))).toBe(false)
    expect(await run.stop()).toBe(0)
  })
})
