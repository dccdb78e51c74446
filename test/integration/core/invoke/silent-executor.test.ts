/**
 * An executor process killed with SIGKILL mid-call closes nothing: over UDP its peers see no
 * end of stream. The caller's liveness probes (src/core/invoke/invoke-caller.ts, SILENCE_MS)
 * must find it gone and move the call, long before the attempt's own deadline — here the
 * whole call deadline, since no other executor existed when the attempt started.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import { describe, expect, it, onTestFinished } from 'vitest'
import { type MissedCall } from '../../../../src/core/invoke/index.ts'
import { SILENCE_MS } from '../../../../src/core/invoke/invoke-caller.ts'
import { createNodeExecutor } from '../../../../src/super-node/executor/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { callerNode, executorNode, publisher, sharedExecutor } from '../../../helpers/invoke.ts'

const CHILD = fileURLToPath(new URL('../../../drills/executor-child.ts', import.meta.url))
/** The call's deadline: far beyond SILENCE_MS, so only the liveness probes can save it in time. */
const DEADLINE_MS = 25_000
/** Bound on the child loading the function and on it taking the call. */
const CHILD_MS = 30_000

describe('an executor killed mid-call', () => {
  it('is found silent by the caller, whose call then runs elsewhere within its deadline', async () => {
    expect(DEADLINE_MS).toBeGreaterThan(5 * SILENCE_MS)
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const bootstrap = net.bootstrap.map(b => `${b.host}:${b.port}`).join(',')
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, '--bootstrap', bootstrap, '--ref', ref, '--hold'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const exited = new Promise(resolve => child.once('exit', resolve))
    onTestFinished(async () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); await exited })
    const lines = createInterface({ input: child.stdout })
    const said = (type: string): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`the executor child did not say ${type} within ${CHILD_MS} ms`)) }, CHILD_MS)
      lines.on('line', (line) => {
        const m = JSON.parse(line) as Record<string, unknown>
        if (m['type'] === 'error') { clearTimeout(timer); reject(new Error(String(m['message']))) }
        if (m['type'] === type) { clearTimeout(timer); resolve(m) }
      })
    })
    const ready = await said('ready')
    const misses: MissedCall[] = []
    const caller = await callerNode(net, { onmiss: (m) => { misses.push(m) } })
    await caller.endpoint.waitForExecutors(1, { timeoutMs: CHILD_MS })

    const started = said('started')
    const call = caller.endpoint.invoke(ref, b4a.from('still here'), { deadline: DEADLINE_MS })
    await started
    // another executor joins while the first holds the call; then the first is killed
    const survivor = await executorNode(net, sharedExecutor(1))
    await caller.endpoint.waitForExecutors(2, { timeoutMs: CHILD_MS })
    // what happens first: the call reaching the survivor, or the swarm dropping the dead
    // peer's connection (UDX gives up on it after ~15-20 s here)
    const order: string[] = []
    const handle = survivor.service.handle.bind(survivor.service)
    survivor.service.handle = async (...args) => { order.push('retried'); return await handle(...args) }
    const dead = caller.node.connections().find(([, p]) => p.publicKey === ready['key'])?.[0]
    expect(dead).toBeDefined()
    dead?.once('close', () => { order.push('connection closed') })
    child.kill('SIGKILL')
    await exited

    const result = await call
    // moved by the liveness probes, not by the transport noticing
    expect(order[0]).toBe('retried')
    expect(b4a.toString(result.output)).toBe('still here')
    expect(result.receipts.map(r => r.executor)).toEqual([survivor.key])
    expect(result.attempts).toBe(2)
    // the silence is the executor's miss, signed by the caller's host from this report
    expect(misses).toMatchObject([{ executor: ready['key'], reason: 'closed' }])
    // the silent peer is skipped until it advertises again, which a dead one never does
    expect(caller.endpoint.peers().find(p => p.key === ready['key'])?.full ?? true).toBe(true)
  }, 60_000)

  it('an executor that answers with an error, whatever its code, has not missed the call', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const pool = createNodeExecutor({ size: 1 })
    onTestFinished(async () => { await pool.close() })
    await executorNode(net, pool)
    const misses: MissedCall[] = []
    const caller = await callerNode(net, { onmiss: (m) => { misses.push(m) } })
    await caller.endpoint.waitForExecutors(1, { timeoutMs: CHILD_MS })
    await caller.endpoint.invoke(ref, b4a.from('one'), { deadline: 20_000 })
    // its pool closes (a contributor pausing): it answers EXECUTOR_CLOSED itself
    await pool.close()
    await expect(caller.endpoint.invoke(ref, b4a.from('two'), { deadline: 20_000 })).rejects.toMatchObject({ code: 'EXECUTOR_CLOSED' })
    expect(misses).toEqual([])
  })

  it('a caller whose own process stalls past SILENCE_MS while its call runs does not take the executor for silent', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const exec = await executorNode(net, sharedExecutor(1))
    const misses: MissedCall[] = []
    const caller = await callerNode(net, { onmiss: (m) => { misses.push(m) } })
    await caller.endpoint.waitForExecutors(1, { timeoutMs: CHILD_MS })
    await caller.endpoint.invoke(ref, b4a.from('warm'), { deadline: 20_000 })
    // the executor shares the caller's process: once it has run the call, the whole process
    // blocks (a long synchronous task, a starved CPU), and its answer goes out only after
    const handle = exec.service.handle.bind(exec.service)
    exec.service.handle = async (...args) => {
      const res = await handle(...args)
      const until = Date.now() + 2 * SILENCE_MS
      while (Date.now() < until) { /* the stall: bounded by the clock */ }
      return res
    }
    const res = await caller.endpoint.invoke(ref, b4a.from('after a stall'), { deadline: 20_000 })
    expect(b4a.toString(res.output)).toBe('after a stall')
    expect(res.attempts).toBe(1)
    expect(misses).toEqual([])
  })
})
