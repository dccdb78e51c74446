import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { handleFnRequest } from '../../../src/core/gateway/index.ts'
import { ShadwError } from '../../../src/core/errors.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'
import { publisher } from '../../helpers/invoke.ts'
import { rawRequest } from '../../helpers/raw-http.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))

describe('status codes of the super node', () => {
  it('answers methods a path does not take with 405 and Allow, TRACE included', async () => {
    const node = await startSuperNode({ workers: 0 })
    const port = Number(new URL(node.info.appUrl).port)
    for (const method of ['TRACE', 'PUT', 'GET']) {
      const a = await rawRequest(port, `${method} /fn/aa/bb@1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
      a.socket.destroy()
      expect([method, a.status]).toEqual([method, 405])
    }
    for (const method of ['POST', 'DELETE', 'PATCH']) {
      const res = await fetch(new URL('/api/status', node.info.appUrl), { method })
      expect([method, res.status, res.headers.get('allow')]).toEqual([method, 405, 'GET, HEAD'])
      expect(await res.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED' })
    }
    expect((await fetch(new URL('/api/status', node.info.appUrl), { method: 'HEAD' })).status).toBe(200)
  }, 30_000)

  it('answers LIMITS_EXCEEDED with 422: the request is sound, the function asks more than this node allows', async () => {
    const res = await handleFnRequest(new Request(`http://localhost/fn/${'ab'.repeat(32)}/bb@1`, { method: 'POST', body: 'x' }), async () => { throw ShadwError.LIMITS_EXCEEDED('fuel', 10, 1) })
    expect(res.status).toBe(422)
    expect(res.headers.get('shadw-error-code')).toBe('LIMITS_EXCEEDED')
  })

  it('invokes through --node on a port fetch() refuses (4190)', async () => {
    // 4190 is on the fetch standard's list of bad ports
    const node = await startSuperNode({ workers: 1, port: 4190 })
    const pub = await publisher({ bootstrap: parseBootstrap(node.info.bootstrap) } as unknown as Testnet)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const dir = await tempDir()
    const input = join(dir, 'in.txt')
    await writeFile(input, 'through a bad port')
    const out = await new Promise<{ code: number, stdout: string, stderr: string }>(resolve => {
      execFile(process.execPath, [BIN, 'invoke', ref, '--input', input, '--node', 'http://127.0.0.1:4190/', '--deadline', '30000'], { timeout: 60_000 }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
      })
    })
    expect(out.stderr).not.toContain('BOOTSTRAP_UNREACHABLE')
    expect(out.stdout).toBe('through a bad port')
    expect(out.code).toBe(0)
  }, 90_000)
})
