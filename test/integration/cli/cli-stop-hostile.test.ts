import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it, onTestFinished } from 'vitest'
import { rawRequest, upgradeHead, waitUntil } from '../../helpers/raw-http.ts'
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

describe('shadw start under hostile clients', () => {
  it('stops on SIGTERM whatever clients hold open, and leaves its storage to the next start', async () => {
    const storage = await tempDir()
    const run = shadw(['start', '--port', '0', '--storage', storage, '--workers', '1'])
    await waitUntil('the startup banner', () => run.stdout().includes('press Ctrl-C to stop'), 30_000)
    const port = Number(/app:\s+http:\/\/127\.0\.0\.1:(\d+)\//.exec(run.stdout())?.[1])
    // what a hostile client leaves open: an upgrade on a path nobody serves, a WebSocket on
    // the relay that never answers a close, headers that never end, a body that never comes
    const held = await Promise.all([
      rawRequest(port, upgradeHead('/nope'), 500),
      rawRequest(port, upgradeHead('/relay'), 2_000),
      rawRequest(port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 200),
      rawRequest(port, 'POST /fn/aa/bb HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\nabc', 200)
    ])
    onTestFinished(() => { for (const h of held) h.socket.destroy() })
    // the relay socket is a real WebSocket client that will never read again
    expect(held[1]?.status).toBe(101)
    held[1]?.socket.pause()

    run.child.kill('SIGTERM')
    // bounded: every part of the stop gives up on a client after its grace
    const code = await Promise.race([run.exit, new Promise<'hung'>(resolve => setTimeout(() => { resolve('hung') }, 30_000))])
    expect(code).toBe(0)
    expect(run.stdout()).toContain('stopped\n')

    // the storage lock went with it: a restart on the same directory works
    const again = shadw(['start', '--port', '0', '--storage', storage, '--workers', '1'])
    await waitUntil('the second startup banner', () => again.stdout().includes('press Ctrl-C to stop') || again.stderr() !== '', 30_000)
    expect(again.stderr()).toBe('')
    again.child.kill('SIGINT')
    expect(await again.exit).toBe(0)
  }, 90_000)
})
