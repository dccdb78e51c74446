import { MessageChannel } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { PortPoolWorker, READY_MESSAGE, SandboxRuntime, serveCalls, WorkerPool, type CallServer } from '../../../../src/core/sandbox/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'

/**
 * A pool whose one worker is a real SandboxRuntime behind a real MessageChannel, in this
 * thread: the envelope both hosts use, without a thread start. Counts the messages that
 * reach the worker's side.
 */
function channelPool (): { pool: WorkerPool, messages: () => number } {
  const { port1, port2 } = new MessageChannel()
  const runtime = new SandboxRuntime()
  const server: CallServer = { execute: async (req) => await runtime.execute(req), post: (msg, transfer) => { port2.postMessage(msg, transfer) } }
  let messages = 0
  port2.on('message', (batch: unknown) => { messages++; serveCalls(server, batch) })
  const pool = new WorkerPool({
    size: 1,
    sharedMemory: false,
    spawn: () => {
      const w = new PortPoolWorker({ postMessage: (msg) => { port1.postMessage(msg) }, terminate: () => { port1.close(); port2.close() } })
      port1.on('message', (msg: unknown) => { w.onmessage(msg) })
      port2.postMessage(READY_MESSAGE)
      return w
    }
  })
  return { pool, messages: () => messages }
}

describe('worker envelope', () => {
  let close: (() => Promise<void>) | undefined
  afterEach(async () => { await close?.(); close = undefined })

  it('carries the calls of one tick in one message and answers each with its own output', async () => {
    const { pool, messages } = channelPool()
    close = async () => { await pool.close() }
    const module = await wat('echo')
    const inputs = Array.from({ length: 12 }, (_, i) => Uint8Array.of(i, i + 1, i + 2))
    const results = await Promise.all(inputs.map(async input => await pool.execute({ module, abi: 'raw', input })))
    expect(results.map(r => [...r.output])).toEqual(inputs.map(i => [...i]))
    // one message per call would be 12; the pool's pipeline refills in bursts
    expect(messages()).toBeLessThanOrEqual(3)
  })

  it('keeps a failure\'s code across the port', async () => {
    const { pool } = channelPool()
    close = async () => { await pool.close() }
    const err = await pool.execute({ module: Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 0xff), abi: 'raw' }).then(() => null, (e: unknown) => e)
    expect((err as { code?: string }).code).toBe('INVALID_MODULE')
  })
})
