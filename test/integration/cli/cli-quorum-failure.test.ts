import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import { describe, expect, it, onTestFinished } from 'vitest'
import { sha256Hex } from '../../../src/core/sandbox/index.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'
import { startExecutorService } from '../../../src/super-node/executor-service.ts'
import { FaultyExecutor, keyedNode, publisher, sharedExecutor } from '../../helpers/invoke.ts'
import { tempDir } from '../../helpers/super-node.ts'
import { testnet } from '../../helpers/testnet.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))

function shadw (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { timeout: 150_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

describe('shadw invoke when the executors disagree', () => {
  it('a failed quorum names each executor with the output it signed, and exits 1', { timeout: 400_000 }, async () => {
    const net = await testnet()
    const pool = sharedExecutor()
    // one honest executor and two that lie differently: three distinct signed results
    const liars = [new FaultyExecutor(pool), new FaultyExecutor(pool)]
    liars.forEach((l, i) => { l.lie = i + 1 })
    // each as `shadw start` runs its executor service, around a test double of our own Executor
    const executors: Array<{ key: string }> = []
    for (const executor of [new FaultyExecutor(pool), ...liars]) {
      const { node, keyPair } = await keyedNode(net, 'super')
      const service = await startExecutorService(node, keyPair, { executor, domain: '127.0.0.1', pricing: false })
      onTestFinished(async () => { await service.stop() })
      executors.push({ key: node.publicKey })
    }
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const input = join(await tempDir(), 'input.txt')
    await writeFile(input, 'x')

    const bootstrap = net.bootstrap.map(b => `${b.host}:${b.port}`).join(',')
    // a fresh CLI node meets executors one by one: a long deadline lets it meet all three on a
    // loaded machine; one it did not meet in time is a failed slot, which the evidence names too.
    // The deadline ends the CLI before the process timeout would (a killed CLI prints nothing)
    const cli = await shadw('invoke', ref, '--input', input, '--redundancy', '3', '--bootstrap', bootstrap, '--deadline', '90000')
    expect([cli.code, cli.stdout]).toEqual([1, ''])
    const [first, ...rest] = cli.stderr.trimEnd().split('\n')
    // a slot nobody took (NO_EXECUTORS) adds what to do about it
    const evidence = rest.filter(l => !l.startsWith('hint: '))
    expect(rest.filter(l => l.startsWith('hint: ')).length, cli.stderr).toBeLessThanOrEqual(1)
    const HEAD = /^shadw: QUORUM_FAILED: no 2 of 3 executors agreed \((\d) distinct results, (\d) failures(: [A-Z_ ×\d,]+)?\)$/
    expect(first).toMatch(HEAD)
    const head = HEAD.exec(first ?? '')
    // one line per executor asked: its key and the output it signed ('x'; 'y' = x^1; 'z' = x^2),
    // or the slot's error code
    const outputs = await Promise.all([0, 1, 2].map(async i => await sha256Hex(b4a.from([0x78 ^ i]))))
    const signed = new Map(executors.map((e, i) => [`${e.key.slice(0, 16)}…`, `${outputs[i]?.slice(0, 16) ?? ''}…`]))
    expect(evidence, cli.stderr).toHaveLength(3)
    const answered = new Set<string>()
    for (const line of evidence) {
      const a = /^ {2}([0-9a-f]{16}…) {2}answered output ([0-9a-f]{16}…) fuel \d+$/.exec(line)
      if (a === null) {
        expect(line).toMatch(/^ {2}(\(no executor\) {3}|[0-9a-f]{16}…) {2}[A-Z_]+: /)
        continue
      }
      expect({ executor: a[1], output: a[2] }).toEqual({ executor: a[1], output: signed.get(a[1] as string) })
      answered.add(a[1] as string)
    }
    // every answer differs, so each executor that answered is one distinct result
    expect([Number(head?.[1]), Number(head?.[2])]).toEqual([answered.size, 3 - answered.size])
    expect(answered.size).toBeGreaterThanOrEqual(1)
  })
})
