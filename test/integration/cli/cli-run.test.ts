import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCommand, type CliIo } from '../../../src/cli/run.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'

const C_DIR = new URL('../../fixtures/wasm/c/', import.meta.url).pathname

function captureIo (stdin = ''): CliIo & { out: () => string, err: () => string } {
  const out: Uint8Array[] = []
  let err = ''
  return {
    stdout: b => { out.push(typeof b === 'string' ? new TextEncoder().encode(b) : b.slice()) },
    stderr: t => { err += t },
    readStdin: async () => new TextEncoder().encode(stdin),
    out: () => Buffer.concat(out).toString('utf8'),
    err: () => err
  }
}

describe('shadw run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shadw-run-'))
  afterAll(() => { rmSync(dir, { recursive: true, force: true }) })

  it('runs a WASI module with arguments and prints its stdout', async () => {
    const io = captureIo()
    expect(await runCommand([C_DIR + 'hello.wasm', '--', 'x'], io)).toBe(0)
    expect(io.out()).toBe('hello, shadw\narg 1: x\n')
  })

  it('reads stdin with --input - and returns the module exit code', async () => {
    const io = captureIo('quiet')
    expect(await runCommand([C_DIR + 'upper.wasm', '--input', '-', '--', 'fail'], io)).toBe(7)
    expect(io.out()).toBe('QUIET')
  })

  it('prints base64 output and exact fuel with --json for a raw module from a file input', async () => {
    const module = join(dir, 'echo.wasm')
    const input = join(dir, 'input.bin')
    writeFileSync(module, await wat('echo'))
    writeFileSync(input, 'ping')
    const io = captureIo()
    expect(await runCommand([module, '--abi', 'raw', '--input', input, '--json'], io)).toBe(0)
    const json = JSON.parse(io.out()) as Record<string, unknown>
    expect(json['ok']).toBe(true)
    expect(json['output']).toBe(Buffer.from('ping').toString('base64'))
    expect(json['fuelUsed']).toBe(22)
    expect(json['exitCode']).toBe(0)
  })

  it('reports FUEL_EXHAUSTED as JSON with exit code 1', async () => {
    const io = captureIo()
    expect(await runCommand([C_DIR + 'spin.wasm', '--fuel', '1000', '--json'], io)).toBe(1)
    expect(JSON.parse(io.out())).toEqual({ ok: false, code: 'FUEL_EXHAUSTED', message: 'FUEL_EXHAUSTED: fuel exhausted (limit 1000)', details: { fuel: 1000 } })
  })

  it('stops at --deadline and at --memory', async () => {
    const slow = captureIo()
    expect(await runCommand([C_DIR + 'spin.wasm', '--fuel', '1000000000000', '--deadline', '200'], slow)).toBe(1)
    expect(slow.err()).toBe('shadw run: DEADLINE_EXCEEDED: deadline of 200 ms exceeded\n')
    const bomb = captureIo()
    expect(await runCommand([C_DIR + 'malloc-bomb.wasm', '--memory', '32', '--json'], bomb)).toBe(1)
    expect((JSON.parse(bomb.out()) as { code: string }).code).toBe('MEMORY_LIMIT')
  })

  it('rejects bad usage with exit code 2', async () => {
    const io = captureIo()
    expect(await runCommand(['--fuel', 'lots', 'x.wasm'], io)).toBe(2)
    expect(io.err().split('\n')[0]).toBe('shadw run: INVALID_ARGUMENT: --fuel needs a non-negative integer')
    expect(await runCommand([join(dir, 'missing.wasm')], captureIo())).toBe(2)
  })

  it('mounts --dir copy-on-write, passes --env, and leaves the host directory as it was', async () => {
    const host = join(dir, 'data')
    mkdirSync(join(host, 'sub'), { recursive: true })
    writeFileSync(join(host, 'input.txt'), 'hello files\n')
    const io = captureIo()
    expect(await runCommand([C_DIR + 'fs-tour.wasm', '--dir', `${host}::/data`], io)).toBe(0)
    expect(io.out()).toContain('now: HELL! FILES\nAPPENDED\n')
    expect(io.out()).toContain('ls /data/out: . .. hard.txt renamed.txt soft\n')
    expect(readdirSync(host).sort()).toEqual(['input.txt', 'sub'])
    expect(readFileSync(join(host, 'input.txt'), 'utf8')).toBe('hello files\n')
    const env = captureIo()
    expect(await runCommand([C_DIR + 'stdio.wasm', '--env', 'WHO=flags'], env)).toBe(3)
    expect(env.out()).toContain('hello flags\n')
  })

  it('documents --dir, --env and -- in --help, and refuses a bad --dir or --env', async () => {
    const io = captureIo()
    expect(await runCommand(['--help'], io)).toBe(0)
    for (const flag of ['--dir HOST[::GUEST]', '--env KEY=VALUE', '-- ARGS...']) expect(io.out()).toContain(flag)
    const bad = captureIo()
    expect(await runCommand([C_DIR + 'fs-tour.wasm', '--env', 'NOEQUALS'], bad)).toBe(2)
    expect(await runCommand([C_DIR + 'fs-tour.wasm', '--dir', join(dir, 'missing')], bad)).toBe(2)
  })
})
