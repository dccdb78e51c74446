import '../../../helpers/quiet-lit.ts'
import b4a from 'b4a'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Address } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { AccessGate, ChainGate, ChainReader, signAuth } from '../../../../src/core/access/index.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { type EvmNode, HARDHAT_CHAIN, startEvmNode } from '../../../helpers/evm.ts'
import { callerNode, executorNode, FaultyExecutor, publisher, sharedExecutor } from '../../../helpers/invoke.ts'

async function codeOf (p: Promise<unknown>): Promise<string> {
  try { await p } catch (err) { return err instanceof ShadwError ? err.code : String(err) }
  return 'PASSED'
}

function signerOf (account: LocalAccount): { getAddress: () => Promise<string>, signMessage: (m: string) => Promise<string> } {
  return { getAddress: async () => account.address, signMessage: async message => await account.signMessage({ message }) }
}

describe('caller-pinned blocks over the wire', () => {
  let evm: EvmNode
  let token: Address

  beforeAll(async () => { evm = await startEvmNode(); token = await evm.deploy('Token20', [1000n]) }, 120_000)
  afterAll(async () => { await evm?.stop() })

  it('two executors read the block the caller pinned: the tenant passes at a block before it sold its token and fails at the head', async () => {
    const tenant = evm.accounts[1] as LocalAccount
    const holding = await evm.write(token, 'Token20', 'transfer', [tenant.address, 5n])
    // the tenant gives its tokens away: from the next block on, it holds none
    const sold = await evm.write(token, 'Token20', 'transfer', [evm.accounts[2]!.address, 5n], tenant)
    expect(sold).toBeGreaterThan(holding)

    const net = await testnet()
    const pub = await publisher(net)
    const access = [{
      conditionType: 'evmBasic', contractAddress: token, standardContractType: 'ERC20', chain: HARDHAT_CHAIN, method: 'balanceOf', parameters: [':userAddress'], returnValueTest: { comparator: '>', value: '0' }
    }]
    const ref = await pub.publish(await wat('echo'), { name: 'pinned', version: '1.0.0', access })
    const fn = { publisher: pub.registry.key, name: 'pinned', version: '1.0.0' }
    const domain = 'app.shadw.test'
    const pool = sharedExecutor(2)
    // each executor decides with its own gate and its own reader of the chain
    const gate = (): AccessGate => new AccessGate({ domain, chain: new ChainGate({ reader: new ChainReader({ endpoints: { [HARDHAT_CHAIN]: [evm.url] } }) }) })
    const runs = [new FaultyExecutor(pool), new FaultyExecutor(pool)]
    const execs = [await executorNode(net, runs[0]!, { gate: gate() }), await executorNode(net, runs[1]!, { gate: gate() })]
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(2, { timeoutMs: 30_000 })
    const both = { deadline: 30_000, redundancy: 2, quorum: 2 }

    // pinned at the block where it still held the token: both executors pass, both receipts name that block
    const ok = await caller.endpoint.invoke(ref, b4a.from('x'), { ...both, auth: await signAuth(signerOf(tenant), { domain, fn }), blocks: { [HARDHAT_CHAIN]: holding } })
    expect(b4a.toString(ok.output)).toBe('x')
    expect(ok.receipts.map(r => r.executor).sort()).toEqual(execs.map(e => e.key).sort())
    for (const r of ok.receipts) {
      expect(r.tenant).toBe(tenant.address)
      expect(r.chainBlocks).toEqual([{ chain: HARDHAT_CHAIN, block: Number(holding) }])
    }
    expect(runs.map(r => r.calls)).toEqual([1, 1])

    // unpinned, each reads its own head, where the tenant holds nothing: both refuse before running
    expect(await codeOf(caller.endpoint.invoke(ref, b4a.from('x'), { ...both, auth: await signAuth(signerOf(tenant), { domain, fn }) }))).toBe('ACCESS_DENIED')
    // pinned at the block of the sale: refused alike
    expect(await codeOf(caller.endpoint.invoke(ref, b4a.from('x'), { ...both, auth: await signAuth(signerOf(tenant), { domain, fn }), blocks: { [HARDHAT_CHAIN]: sold } }))).toBe('ACCESS_DENIED')
    // a pin ahead of the chain's head is refused, not waited for
    expect(await codeOf(caller.endpoint.invoke(ref, b4a.from('x'), { ...both, auth: await signAuth(signerOf(tenant), { domain, fn }), blocks: { [HARDHAT_CHAIN]: sold + 1000n } }))).toBe('CHAIN_BLOCK_INVALID')
    expect(runs.map(r => r.calls)).toEqual([1, 1])
  }, 120_000)

  it('without a pin from the caller, the executors read the block the lowest of them would: a balance flip between their heads splits no call', async () => {
    const tenant = evm.accounts[3] as LocalAccount
    await evm.write(token, 'Token20', 'transfer', [tenant.address, 5n])

    const net = await testnet()
    const pub = await publisher(net)
    const access = [{
      conditionType: 'evmBasic', contractAddress: token, standardContractType: 'ERC20', chain: HARDHAT_CHAIN, method: 'balanceOf', parameters: [':userAddress'], returnValueTest: { comparator: '>', value: '0' }
    }]
    const ref = await pub.publish(await wat('echo'), { name: 'follow', version: '1.0.0', access })
    const fn = { publisher: pub.registry.key, name: 'follow', version: '1.0.0' }
    const domain = 'app.shadw.test'
    const pool = sharedExecutor(2)
    // one executor's view of the chain lags (its head is kept for minutes), the other's is fresh:
    // each pinning its own head, they read different blocks
    const gate = (headTtlMs: number): AccessGate => new AccessGate({ domain, chain: new ChainGate({ headTtlMs, reader: new ChainReader({ endpoints: { [HARDHAT_CHAIN]: [evm.url] } }) }) })
    const runs = [new FaultyExecutor(pool), new FaultyExecutor(pool)]
    await executorNode(net, runs[0]!, { gate: gate(600_000) })
    await executorNode(net, runs[1]!, { gate: gate(0) })
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(2, { timeoutMs: 30_000 })
    const both = { deadline: 30_000, redundancy: 2, quorum: 2 }

    const held = await evm.client.getBlockNumber()
    const first = await caller.endpoint.invoke(ref, b4a.from('x'), { ...both, auth: await signAuth(signerOf(tenant), { domain, fn }) })
    expect(first.receipts.map(r => r.chainBlocks)).toEqual([[{ chain: HARDHAT_CHAIN, block: Number(held) }], [{ chain: HARDHAT_CHAIN, block: Number(held) }]])

    // the tenant sells its tokens: the fresh executor's head now says it holds none, the lagging one's does not
    const sold = await evm.write(token, 'Token20', 'transfer', [evm.accounts[2]!.address, 5n], tenant)
    expect(sold).toBeGreaterThan(held)
    const second = await caller.endpoint.invoke(ref, b4a.from('x'), { ...both, auth: await signAuth(signerOf(tenant), { domain, fn }) })
    expect(b4a.toString(second.output)).toBe('x')
    // both read the lagging executor's head, which each accepted as within its tolerance
    for (const r of second.receipts) expect(r.chainBlocks).toEqual([{ chain: HARDHAT_CHAIN, block: Number(held) }])
    expect(runs.map(r => r.calls)).toEqual([2, 2])
  }, 120_000)
})
