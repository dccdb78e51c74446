import b4a from 'b4a'
import { Wallet, utils } from 'ethers'
import { describe, expect, it } from 'vitest'
import { AccessGate, signAuth } from '../../../../src/core/access/index.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { decodeReceipt, verifyReceipt, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { MAX_INPUT_BYTES } from '../../../../src/core/invoke/index.ts'
import { sha256Hex } from '../../../../src/core/sandbox/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { callerNode, executorNode, FaultyExecutor, publisher, sharedExecutor, until } from '../../../helpers/invoke.ts'

async function failure (p: Promise<unknown>): Promise<ShadwError> {
  try {
    await p
  } catch (err) {
    if (err instanceof ShadwError) return err
    throw err
  }
  throw new Error('expected a typed error')
}

/** A promise and the function that settles it: holds executions "in progress". */
function latch (): { promise: Promise<void>, release: () => void } {
  let release = (): void => {}
  const promise = new Promise<void>(resolve => { release = resolve })
  return { promise, release }
}

describe('invocation over the swarm', () => {
  it('runs a published function on an executor and returns the output with a receipt that verifies and sits in its ledger', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const exec = await executorNode(net, sharedExecutor(1))
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(1, { timeoutMs: 20_000 })

    const input = b4a.from('hello, swarm')
    const result = await caller.endpoint.invoke(ref.replace('@1.0.0', '@^1'), input, { deadline: 20_000 })
    expect(b4a.toString(result.output)).toBe('hello, swarm')
    expect(result.receipts).toHaveLength(1)
    expect(result.dissenters).toEqual([])
    expect(result.attempts).toBe(1)
    const receipt = result.receipts[0] as SignedReceipt
    expect(verifyReceipt(receipt)).toBe(receipt)
    expect(receipt.executor).toBe(exec.key)
    expect(receipt.fn).toBe(ref)
    expect(receipt.inputHash).toBe(await sha256Hex(input))
    expect(receipt.outputHash).toBe(await sha256Hex(input))
    expect(receipt.tenant).toBe(caller.node.publicKey)
    expect(result.ledgers).toEqual([{ key: exec.ledgerKey, index: 0 }])
    // the executor's ledger holds exactly this receipt
    expect(decodeReceipt(await exec.node.get(exec.ledgerKey, 0) as Uint8Array)).toEqual(receipt)
    expect(exec.service.executions).toBe(1)
    // one changed field and the signature no longer verifies
    expect(() => verifyReceipt({ ...receipt, fuel: receipt.fuel + 1 })).toThrowError(expect.objectContaining({ code: 'RECEIPT_INVALID' }) as Error)
  })

  it('k=3 with one lying executor: the honest majority is accepted and the liar recorded', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const real = sharedExecutor(2)
    const liar = new FaultyExecutor(real)
    liar.lie = 0xff
    const honest = [await executorNode(net, real), await executorNode(net, real)]
    const lying = await executorNode(net, liar)
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(3, { timeoutMs: 20_000 })

    const result = await caller.endpoint.invoke(ref, b4a.from('truth'), { redundancy: 3, deadline: 20_000 })
    expect(b4a.toString(result.output)).toBe('truth')
    expect(result.receipts.map(r => r.executor).sort()).toEqual(honest.map(h => h.key).sort())
    expect(result.dissenters.map(r => r.executor)).toEqual([lying.key])
    expect(result.dissenters[0]?.outputHash).toBe(await sha256Hex(b4a.from('truth').map(b => b ^ 0xff)))
    expect(result.failures).toEqual([])
    expect(liar.calls).toBe(1)
    expect(caller.endpoint.peers().find(p => p.key === lying.key)?.dissents).toBe(1)
  })

  it('k=3 where every executor disagrees fails with QUORUM_FAILED carrying every signed result', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const real = sharedExecutor(2)
    const masks = [0, 0x0f, 0xf0]
    const execs = []
    for (const mask of masks) {
      const e = new FaultyExecutor(real)
      e.lie = mask
      execs.push(await executorNode(net, e))
    }
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(3, { timeoutMs: 20_000 })

    const err = await failure(caller.endpoint.invoke(ref, b4a.from('abc'), { redundancy: 3, deadline: 20_000 }))
    expect(err.code).toBe('QUORUM_FAILED')
    const groups = err.details?.['groups'] as Array<{ outputHash: string, receipts: SignedReceipt[] }>
    expect(groups).toHaveLength(3)
    expect(groups.map(g => g.outputHash).sort()).toEqual((await Promise.all(masks.map(m => sha256Hex(b4a.from('abc').map(b => b ^ m))))).sort())
    for (const g of groups) expect(verifyReceipt(g.receipts[0] as SignedReceipt).executor).toMatch(/^[0-9a-f]{64}$/)
    expect(groups.flatMap(g => g.receipts.map(r => r.executor)).sort()).toEqual(execs.map(e => e.key).sort())
  })

  it('an executor stopped mid-call: the call is retried on another and answers within its deadline', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const real = sharedExecutor(1)
    const held = latch()
    const wrappers = [new FaultyExecutor(real), new FaultyExecutor(real)]
    // whichever executor takes the first call holds it: that node is then stopped
    let first: FaultyExecutor | null = null
    for (const w of wrappers) w.onCall = () => { if (first === null) { first = w; w.hold = held.promise } }
    const execs = [await executorNode(net, wrappers[0] as FaultyExecutor), await executorNode(net, wrappers[1] as FaultyExecutor)]
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(2, { timeoutMs: 20_000 })

    const call = caller.endpoint.invoke(ref, b4a.from('survive'), { deadline: 30_000 })
    await until('an executor to take the call', () => first !== null)
    const doomed = execs[wrappers.indexOf(first as unknown as FaultyExecutor)]
    const survivor = execs.find(e => e !== doomed)
    await doomed?.node.stop()
    const result = await call
    held.release()
    expect(b4a.toString(result.output)).toBe('survive')
    expect(result.attempts).toBe(2)
    expect(result.receipts.map(r => r.executor)).toEqual([survivor?.key])
  })

  it('an executor that stays silent past its attempt deadline is cancelled and the call retried on another within the caller\'s deadline', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const real = sharedExecutor(1)
    const never = latch()
    const wrappers = [new FaultyExecutor(real), new FaultyExecutor(real)]
    const execs = [await executorNode(net, wrappers[0] as FaultyExecutor), await executorNode(net, wrappers[1] as FaultyExecutor)]
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(2, { timeoutMs: 20_000 })
    // both executors fetch the function from the registry first (on a loaded machine a cold
    // fetch alone can outlast an attempt's 2 s: the first executor would be cancelled before
    // it ever ran the call, and the retry's would be the one held)
    await caller.endpoint.invoke(ref, b4a.from('warm'), { redundancy: 2, deadline: 20_000 })
    expect(wrappers.map(w => w.calls)).toEqual([1, 1])
    let first: FaultyExecutor | null = null
    for (const w of wrappers) w.onCall = () => { if (first === null) { first = w; w.hold = never.promise } }

    const result = await caller.endpoint.invoke(ref, b4a.from('late'), { deadline: 4_000 })
    const silent = execs[wrappers.indexOf(first as unknown as FaultyExecutor)]
    expect(b4a.toString(result.output)).toBe('late')
    expect(result.attempts).toBe(2)
    expect(result.receipts[0]?.executor).not.toBe(silent?.key)
    expect(wrappers.map(w => w.calls)).toEqual([2, 2])
    never.release()
  })

  it('200 concurrent calls on two executors each complete with their own output or fail with BUSY', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const real = sharedExecutor(2)
    await executorNode(net, real, { slots: 8 })
    await executorNode(net, real, { slots: 8 })
    const callers = [await callerNode(net), await callerNode(net)]
    for (const c of callers) await c.endpoint.waitForExecutors(2, { timeoutMs: 20_000 })
    const settled = await Promise.allSettled(Array.from({ length: 200 }, async (_, i) => {
      const r = await (callers[i % 2]?.endpoint.invoke(ref, b4a.from(`call ${i}`), { deadline: 30_000 }))
      return [i, b4a.toString(r?.output ?? new Uint8Array(0))] as const
    }))
    const ok = settled.filter(s => s.status === 'fulfilled').map(s => s.value)
    const failed = settled.filter(s => s.status === 'rejected').map(s => s.reason as unknown)
    for (const [i, out] of ok) expect(out).toBe(`call ${i}`)
    for (const err of failed) expect(err instanceof ShadwError ? err.code : err).toBe('BUSY')
    expect(ok.length + failed.length).toBe(200)
    expect(ok.length).toBeGreaterThanOrEqual(16)
  })

  it('a replayed request is refused with REQUEST_REPLAYED and runs nothing', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const exec = await executorNode(net, sharedExecutor(1))
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(1, { timeoutMs: 20_000 })
    const nonce = utils.arrayify(utils.randomBytes(32))
    await caller.endpoint.invoke(ref, b4a.from('once'), { nonce, deadline: 20_000 })
    const err = await failure(caller.endpoint.invoke(ref, b4a.from('once'), { nonce, deadline: 20_000 }))
    expect(err.code).toBe('REQUEST_REPLAYED')
    expect(exec.service.executions).toBe(1)
  })

  it('oversized input is refused with INPUT_TOO_LARGE before any execution (manifest limit on the executor, protocol limit on the caller)', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'small', version: '1.0.0', limits: { maxInputBytes: 16 } })
    const counting = new FaultyExecutor(sharedExecutor(1))
    const exec = await executorNode(net, counting)
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(1, { timeoutMs: 20_000 })
    const err = await failure(caller.endpoint.invoke(ref, new Uint8Array(17), { deadline: 20_000 }))
    expect(err.code).toBe('INPUT_TOO_LARGE')
    expect(err.message).toBe('INPUT_TOO_LARGE: input of 17 bytes exceeds the limit of 16')
    expect((await failure(caller.endpoint.invoke(ref, new Uint8Array(MAX_INPUT_BYTES + 1)))).code).toBe('INPUT_TOO_LARGE')
    expect(counting.calls).toBe(0)
    expect(exec.service.executions).toBe(0)
    expect(b4a.toString((await caller.endpoint.invoke(ref, b4a.from('sixteen bytes ok'), { deadline: 20_000 })).output)).toBe('sixteen bytes ok')
  })

  it('when every executor is full a call fails with BUSY at once (router and executor both refuse), and the held calls still finish', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const real = sharedExecutor(1)
    const held = latch()
    const wrappers = [new FaultyExecutor(real), new FaultyExecutor(real)]
    for (const w of wrappers) w.hold = held.promise
    await executorNode(net, wrappers[0] as FaultyExecutor, { slots: 1 })
    await executorNode(net, wrappers[1] as FaultyExecutor, { slots: 1 })
    const caller = await callerNode(net)
    const other = await callerNode(net)
    await caller.endpoint.waitForExecutors(2, { timeoutMs: 20_000 })
    await other.endpoint.waitForExecutors(2, { timeoutMs: 20_000 })

    const running = [caller.endpoint.invoke(ref, b4a.from('a'), { deadline: 30_000 }), caller.endpoint.invoke(ref, b4a.from('b'), { deadline: 30_000 })]
    await until('both executors to hold a call', () => wrappers.every(w => w.calls === 1))
    expect((await failure(caller.endpoint.invoke(ref, b4a.from('c'), { deadline: 30_000 }))).code).toBe('BUSY')
    // a caller with no calls of its own in flight learns it from the executors
    expect((await failure(other.endpoint.invoke(ref, b4a.from('d'), { deadline: 30_000 }))).code).toBe('BUSY')
    expect(wrappers.map(w => w.calls)).toEqual([1, 1])
    held.release()
    expect((await Promise.all(running)).map(r => b4a.toString(r.output)).sort()).toEqual(['a', 'b'])
  })

  it('a gated function without auth is refused with AUTH_MALFORMED; with the tenant\'s SIWE auth it runs and the receipt names the tenant', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const wallet = new Wallet(utils.hexlify(utils.randomBytes(32)))
    const access = [{ conditionType: 'evmBasic', contractAddress: '', standardContractType: '', chain: 'ethereum', method: '', parameters: [':userAddress'], returnValueTest: { comparator: '=', value: wallet.address } }]
    const ref = await pub.publish(await wat('echo'), { name: 'gated', version: '1.0.0', access })
    const counting = new FaultyExecutor(sharedExecutor(1))
    const domain = 'app.shadw.test'
    const exec = await executorNode(net, counting, { gate: new AccessGate({ domain }) })
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(1, { timeoutMs: 20_000 })

    expect((await failure(caller.endpoint.invoke(ref, b4a.from('x'), { deadline: 20_000 }))).code).toBe('AUTH_MALFORMED')
    const stranger = new Wallet(utils.hexlify(utils.randomBytes(32)))
    const fn = { publisher: pub.registry.key, name: 'gated', version: '1.0.0' }
    expect((await failure(caller.endpoint.invoke(ref, b4a.from('x'), { deadline: 20_000, auth: await signAuth(stranger, { domain, fn }) }))).code).toBe('ACCESS_DENIED')
    expect(counting.calls).toBe(0)
    const ok = await caller.endpoint.invoke(ref, b4a.from('x'), { deadline: 20_000, auth: await signAuth(wallet, { domain, fn }) })
    expect(b4a.toString(ok.output)).toBe('x')
    expect(ok.receipts[0]?.tenant).toBe(wallet.address)
    expect(exec.service.executions).toBe(1)
  })

  it('an executor that runs another function than the one asked (its receipt honest about it) is refused with RECEIPT_INVALID', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const other = await pub.publish(await wat('echo'), { name: 'other', version: '1.0.0' })
    await executorNode(net, sharedExecutor(1), { functions: (loader) => ({ load: async (_ref, o) => await loader.load(other, o) }) })
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(1, { timeoutMs: 20_000 })
    const err = await failure(caller.endpoint.invoke(ref, b4a.from('x'), { deadline: 20_000 }))
    expect(err.code).toBe('RECEIPT_INVALID')
    expect(err.message).toBe(`RECEIPT_INVALID: receipt names another function (${other})`)
    expect((await failure(caller.endpoint.invoke('not a ref', b4a.from('x')))).code).toBe('INVALID_FUNCTION_REF')
  })

  it('with no executor connected a call fails with NO_EXECUTORS', async () => {
    const net = await testnet()
    const caller = await callerNode(net)
    expect((await failure(caller.endpoint.invoke(`${'ab'.repeat(32)}/echo@1.0.0`, b4a.from('x')))).code).toBe('NO_EXECUTORS')
  })

  it('a function that traps everywhere fails with TRAP (the code a quorum of executors agreed on), not QUORUM_FAILED', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('trap'), { name: 'trap', version: '1.0.0' })
    const real = sharedExecutor(2)
    await executorNode(net, real)
    await executorNode(net, real)
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(2, { timeoutMs: 20_000 })
    const err = await failure(caller.endpoint.invoke(ref, b4a.from('x'), { redundancy: 2, deadline: 20_000 }))
    expect(err.code).toBe('TRAP')
    expect((err.details?.['failures'] as unknown[]).length).toBe(2)
  })
})
