import '../../../helpers/quiet-lit.ts'
import { createServer, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Address } from 'viem'
import { AccessGate, ChainGate, ChainReader, checkConditions, type AccessPolicy } from '../../../../src/core/access/index.ts'
import type { ShadwError } from '../../../../src/core/errors.ts'
import { type EvmNode, HARDHAT_CHAIN, startEvmNode } from '../../../helpers/evm.ts'

const CHAIN = HARDHAT_CHAIN
const OR = { operator: 'or' }
const AND = { operator: 'and' }

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { return (err as ShadwError).code ?? String(err) }
  return 'PASSED'
}

function basic (fields: Record<string, unknown>): Record<string, unknown> {
  return { contractAddress: '', standardContractType: '', chain: CHAIN, method: '', parameters: [':userAddress'], ...fields }
}

function erc20 (token: string, min = '0', comparator = '>'): Record<string, unknown> {
  return basic({ contractAddress: token, standardContractType: 'ERC20', method: 'balanceOf', returnValueTest: { comparator, value: min } })
}

function view (contract: string, name: string, inputs: Array<{ name: string, type: string }>, outputs: Array<{ name: string, type: string }>, params: string[], test: Record<string, string>): Record<string, unknown> {
  return {
    contractAddress: contract,
    chain: CHAIN,
    functionName: name,
    functionParams: params,
    functionAbi: { name, type: 'function', stateMutability: 'view', inputs, outputs },
    returnValueTest: { key: '', ...test }
  }
}

async function policyOf (value: unknown): Promise<AccessPolicy> {
  return await checkConditions(value)
}

describe('chain gate on a real EVM node', () => {
  let evm: EvmNode
  let token: Address
  let nft: Address
  let multi: Address
  let oracle: Address
  let holder: Address
  let other: Address
  let stranger: Address
  let reader: ChainReader
  let gate: ChainGate

  beforeAll(async () => {
    evm = await startEvmNode()
    const [admin, a1, a2, a3] = evm.accounts
    holder = a1!.address
    other = a2!.address
    stranger = a3!.address
    token = await evm.deploy('Token20', [1000n])
    nft = await evm.deploy('Token721')
    multi = await evm.deploy('Token1155')
    oracle = await evm.deploy('Oracle')
    await evm.write(token, 'Token20', 'transfer', [holder, 10n], admin)
    await evm.write(nft, 'Token721', 'mint', [holder, 7n], admin)
    await evm.write(multi, 'Token1155', 'mint', [holder, 3n, 5n], admin)
    await evm.write(oracle, 'Oracle', 'setScore', [holder, 120n], admin)
    await evm.write(oracle, 'Oracle', 'setMember', [holder, true], admin)
    reader = new ChainReader({ endpoints: { [CHAIN]: [evm.url] }, timeoutMs: 5_000 })
    gate = new ChainGate({ reader, headTtlMs: 0 })
  }, 120_000)

  afterAll(async () => { await evm?.stop() })

  it('evaluates every standard contract type against chain state', async () => {
    const cases: Array<[string, unknown[]]> = [
      ['ERC-20 balanceOf', [erc20(token)]],
      ['ERC-721 ownerOf', [basic({ contractAddress: nft, standardContractType: 'ERC721', method: 'ownerOf', parameters: ['7'], returnValueTest: { comparator: '=', value: ':userAddress' } })]],
      ['ERC-721 balanceOf', [basic({ contractAddress: nft, standardContractType: 'ERC721', method: 'balanceOf', returnValueTest: { comparator: '>=', value: '1' } })]],
      ['ERC-1155 balanceOf', [basic({ contractAddress: multi, standardContractType: 'ERC1155', method: 'balanceOf', parameters: [':userAddress', '3'], returnValueTest: { comparator: '>=', value: '5' } })]],
      ['native balance', [basic({ method: 'eth_getBalance', parameters: [':userAddress', 'latest'], returnValueTest: { comparator: '>', value: '1000000000000000000' } })]],
      ['timestamp', [basic({ standardContractType: 'timestamp', method: 'eth_getBlockByNumber', parameters: ['latest'], returnValueTest: { comparator: '>', value: '1000' } })]]
    ]
    const fresh = '0x000000000000000000000000000000000000dEaD'
    for (const [what, list] of cases) {
      const policy = await policyOf({ accessControlConditions: list })
      expect((await gate.decide(policy, holder)).pass, what).toBe(true)
      // a fresh address holds nothing; time passes for everyone
      expect((await gate.decide(policy, fresh)).pass, what).toBe(what === 'timestamp')
    }
  })

  it('evaluates any view function by ABI, and unified conditions with and/or', async () => {
    const eligible = view(oracle, 'eligible', [{ name: 'who', type: 'address' }, { name: 'min', type: 'uint256' }], [{ name: '', type: 'bool' }], [':userAddress', '100'], { comparator: '=', value: 'true' })
    const tier = view(oracle, 'tier', [{ name: 'who', type: 'address' }], [{ name: '', type: 'string' }], [':userAddress'], { comparator: '=', value: 'gold' })
    const contracts = await policyOf({ evmContractConditions: [eligible, OR, tier] })
    expect((await gate.decide(contracts, holder)).pass).toBe(true)
    expect((await gate.decide(contracts, stranger)).pass).toBe(false)

    const isStranger = { conditionType: 'evmBasic', ...basic({ returnValueTest: { comparator: '=', value: stranger } }) }
    const anyOf = await policyOf({ unifiedAccessControlConditions: [{ conditionType: 'evmBasic', ...erc20(token) }, OR, isStranger] })
    expect((await gate.decide(anyOf, holder)).pass).toBe(true)
    expect((await gate.decide(anyOf, stranger)).pass).toBe(true)
    expect((await gate.decide(anyOf, other)).pass).toBe(false)
    const both = await policyOf({ unifiedAccessControlConditions: [{ conditionType: 'evmBasic', ...erc20(token) }, AND, [{ conditionType: 'evmContract', ...eligible }, OR, isStranger]] })
    expect((await gate.decide(both, holder)).pass).toBe(true)
    expect((await gate.decide(both, stranger)).pass).toBe(false)
    // and/or mixed at one level has no documented precedence: refused, never guessed
    const mixed = await policyOf({ unifiedAccessControlConditions: [isStranger, OR, isStranger, AND, { conditionType: 'evmBasic', ...erc20(token) }] })
    expect(await codeOf(gate.decide(mixed, holder))).toBe('CONDITION_UNSUPPORTED')
  })

  it('takes access away at the next block after a transfer, and still decides alike at a pinned older block', async () => {
    const policy = await policyOf({ accessControlConditions: [erc20(token)] })
    const [, a1] = evm.accounts
    await evm.write(token, 'Token20', 'transfer', [other, 4n], a1)
    const before = await gate.decide(policy, holder)
    expect(before.pass).toBe(true)
    const pinned = BigInt(before.blocks[CHAIN] as string)
    const moved = await evm.write(token, 'Token20', 'transfer', [other, 6n], a1)
    expect(moved).toBeGreaterThan(pinned)
    const after = await gate.decide(policy, holder)
    expect(after.pass).toBe(false)
    expect(BigInt(after.blocks[CHAIN] as string)).toBeGreaterThanOrEqual(moved)
    // the same question at the block the first executor pinned: the same answer, from the cache
    const again = await gate.decide(policy, holder, { [CHAIN]: pinned })
    expect(again).toEqual({ pass: true, blocks: before.blocks, cached: true })
    // and, asked fresh of the chain (another node, no cache), still the same answer
    const fresh = new ChainGate({ reader: new ChainReader({ endpoints: { [CHAIN]: [evm.url] } }), headTtlMs: 0 })
    expect(await fresh.decide(policy, holder, { [CHAIN]: pinned })).toEqual({ pass: true, blocks: before.blocks, cached: false })
  })

  it('refuses hostile contracts with CONDITION_CALL_FAILED: revert, endless loop, huge answer, wrong type, no contract', async () => {
    const one = [{ name: 'who', type: 'address' }]
    const cases: Array<[string, Record<string, unknown>]> = [
      ['reverts', view(oracle, 'reverts', one, [{ name: '', type: 'bool' }], [':userAddress'], { comparator: '=', value: 'true' })],
      ['loops', view(oracle, 'loops', one, [{ name: '', type: 'bool' }], [':userAddress'], { comparator: '=', value: 'true' })],
      ['huge', view(oracle, 'huge', one, [{ name: '', type: 'bytes' }], [':userAddress'], { comparator: '=', value: '0x' })],
      ['notBool', view(oracle, 'notBool', one, [{ name: '', type: 'bool' }], [':userAddress'], { comparator: '=', value: 'true' })],
      ['no contract', view('0x000000000000000000000000000000000000bEEF', 'eligible', one, [{ name: '', type: 'bool' }], [':userAddress'], { comparator: '=', value: 'true' })]
    ]
    for (const [what, condition] of cases) {
      const policy = await policyOf({ evmContractConditions: [condition] })
      expect(await codeOf(gate.decide(policy, holder)), what).toBe('CONDITION_CALL_FAILED')
    }
  })

  it('refuses conditions it cannot read with their own codes: unconfigured chain, Solana, a pin ahead of the chain or too old', async () => {
    const polygon = await policyOf({ accessControlConditions: [{ ...erc20(token), chain: 'polygon' }] })
    expect(await codeOf(gate.decide(polygon, holder))).toBe('CHAIN_UNCONFIGURED')
    const solana = await policyOf({
      solRpcConditions: [{ method: 'getBalance', params: [':userAddress'], pdaParams: [], pdaInterface: { offset: 0, fields: {} }, pdaKey: '', chain: 'solana', returnValueTest: { key: '', comparator: '>=', value: '1' } }]
    })
    expect(await codeOf(gate.decide(solana, holder))).toBe('SOLANA_UNCONFIGURED')
    const policy = await policyOf({ accessControlConditions: [erc20(token)] })
    const head = await evm.client.getBlockNumber()
    expect(await codeOf(gate.decide(policy, holder, { [CHAIN]: head + 1000n }))).toBe('CHAIN_BLOCK_INVALID')
    const strict = new ChainGate({ reader, headTtlMs: 0, maxPinAge: 1n })
    expect(await codeOf(strict.decide(policy, holder, { [CHAIN]: 1n }))).toBe('CHAIN_BLOCK_INVALID')
  })

  it('caches per (conditions, address, block) and rate-limits chain reads per tenant', async () => {
    const limited = new ChainGate({ reader: new ChainReader({ endpoints: { [CHAIN]: [evm.url] }, readsPerMinute: 4 }), headTtlMs: 0 })
    const policy = await policyOf({ accessControlConditions: [erc20(token, '0', '>=')] })
    const block = await evm.client.getBlockNumber()
    // a pinned decision costs one head read and one call
    expect((await limited.decide(policy, holder, { [CHAIN]: block })).cached).toBe(false)
    expect((await limited.decide(policy, holder, { [CHAIN]: block })).cached).toBe(true)
    expect(limited.cachedDecisions).toBe(1)
    expect(await codeOf(limited.decide(policy, holder, { [CHAIN]: block - 1n }))).toBe('CHAIN_RATE_LIMITED')
    // another tenant has its own budget
    expect((await limited.decide(policy, other, { [CHAIN]: block })).pass).toBe(true)
  })

  it('grants through the access gate with the blocks it read, and denies without a chain endpoint', async () => {
    const { signAuth } = await import('../../../../src/core/access/index.ts')
    const { FN, DOMAIN } = await import('../../../helpers/access-fixtures.ts')
    const [, , , , holderOfNft] = evm.accounts
    await evm.write(nft, 'Token721', 'mint', [holderOfNft!.address, 8n], evm.accounts[0])
    const signer = { getAddress: async () => holderOfNft!.address, signMessage: async (message: string) => await holderOfNft!.signMessage!({ message }) }
    const access = [{ conditionType: 'evmBasic', ...basic({ contractAddress: nft, standardContractType: 'ERC721', method: 'balanceOf', returnValueTest: { comparator: '>', value: '0' } }) }]
    const accessGate = new AccessGate({ domain: DOMAIN, chain: gate })
    const grant = await accessGate.authorize({ fn: FN, access, auth: await signAuth(signer, { domain: DOMAIN, fn: FN }) })
    expect(grant.path).toBe('chain')
    expect(grant.address).toBe(holderOfNft!.address)
    expect(Number(grant.blocks?.[CHAIN])).toBeGreaterThan(0)
    const bare = new AccessGate({ domain: DOMAIN })
    expect(await codeOf(bare.authorize({ fn: FN, access, auth: await signAuth(signer, { domain: DOMAIN, fn: FN }) }))).toBe('CHAIN_UNCONFIGURED')
  })
})

describe('chain reads against hostile endpoints', () => {
  let a: EvmNode
  let b: EvmNode
  let silent: Server
  let silentUrl: string
  const sockets = new Set<Socket>()

  beforeAll(async () => {
    ;[a, b] = await Promise.all([startEvmNode(), startEvmNode()])
    // the same deployments on both chains (same deployer, same nonces, same addresses)...
    const [ta, tb] = await Promise.all([a.deploy('Token20', [1000n]), b.deploy('Token20', [1000n])])
    expect(ta).toBe(tb)
    // ...but node b has moved the holder's tokens away: one of the two endpoints lies
    await a.write(ta, 'Token20', 'transfer', [a.accounts[1]!.address, 10n])
    await b.write(tb, 'Token20', 'transfer', [b.accounts[2]!.address, 10n])
    silent = createServer(socket => { sockets.add(socket); socket.on('error', () => {}); socket.on('close', () => sockets.delete(socket)) })
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    const address = silent.address()
    silentUrl = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  }, 120_000)

  afterAll(async () => {
    for (const s of sockets) s.destroy()
    silent?.close()
    await Promise.all([a?.stop(), b?.stop()])
  })

  it('refuses with CHAIN_RPC_DISAGREE when two endpoints answer differently at the same block', async () => {
    const token = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
    const gate = new ChainGate({ reader: new ChainReader({ endpoints: { [CHAIN]: [a.url, b.url] } }), headTtlMs: 0 })
    const policy = await checkConditions({ accessControlConditions: [erc20(token)] })
    expect(await codeOf(gate.decide(policy, a.accounts[1]!.address))).toBe('CHAIN_RPC_DISAGREE')
    // each endpoint on its own answers, and they differ
    const onA = new ChainGate({ reader: new ChainReader({ endpoints: { [CHAIN]: [a.url] } }), headTtlMs: 0 })
    const onB = new ChainGate({ reader: new ChainReader({ endpoints: { [CHAIN]: [b.url] } }), headTtlMs: 0 })
    expect((await onA.decide(policy, a.accounts[1]!.address)).pass).toBe(true)
    expect((await onB.decide(policy, a.accounts[1]!.address)).pass).toBe(false)
  })

  it('refuses a stale endpoint whose head is far behind the others', async () => {
    for (let i = 0; i < 4; i++) await a.write('0x5FbDB2315678afecb367f032d93F642f64180aa3', 'Token20', 'approve', [a.accounts[3]!.address, BigInt(i)])
    const gate = new ChainGate({ reader: new ChainReader({ endpoints: { [CHAIN]: [a.url, b.url] } }), headTtlMs: 0, maxPinAge: 2n })
    const policy = await checkConditions({ accessControlConditions: [erc20('0x5FbDB2315678afecb367f032d93F642f64180aa3')] })
    expect(await codeOf(gate.decide(policy, a.accounts[1]!.address))).toBe('CHAIN_BLOCK_INVALID')
  })

  it('fails with CHAIN_RPC_FAILED within its timeout when an endpoint never answers', async () => {
    const gate = new ChainGate({ reader: new ChainReader({ endpoints: { [CHAIN]: [silentUrl] }, timeoutMs: 300 }), headTtlMs: 0 })
    const policy = await checkConditions({ accessControlConditions: [erc20('0x5FbDB2315678afecb367f032d93F642f64180aa3')] })
    expect(await codeOf(gate.decide(policy, a.accounts[1]!.address))).toBe('CHAIN_RPC_FAILED')
    // one silent endpoint among good ones fails the read too: agreement needs every answer
    const mixed = new ChainGate({ reader: new ChainReader({ endpoints: { [CHAIN]: [a.url, silentUrl] }, timeoutMs: 300 }), headTtlMs: 0 })
    expect(await codeOf(mixed.decide(policy, a.accounts[1]!.address))).toBe('CHAIN_RPC_FAILED')
  })

  it('gives up with ABORTED when the call is aborted while an endpoint hangs', async () => {
    const { signAuth } = await import('../../../../src/core/access/index.ts')
    const { FN, DOMAIN } = await import('../../../helpers/access-fixtures.ts')
    const gate = new AccessGate({ domain: DOMAIN, chain: new ChainGate({ reader: new ChainReader({ endpoints: { [CHAIN]: [silentUrl] }, timeoutMs: 60_000 }) }) })
    const tenant = a.accounts[1]!
    const auth = await signAuth({ getAddress: async () => tenant.address, signMessage: async (message: string) => await tenant.signMessage!({ message }) }, { domain: DOMAIN, fn: FN })
    const controller = new AbortController()
    const deciding = gate.authorize({ fn: FN, access: [{ conditionType: 'evmBasic', ...erc20('0x5FbDB2315678afecb367f032d93F642f64180aa3') }], auth, signal: controller.signal })
    setTimeout(() => { controller.abort() }, 200)
    expect(await codeOf(deciding)).toBe('ABORTED')
  })

  it('refuses an endpoint that serves another chain', async () => {
    const gate = new ChainGate({ reader: new ChainReader({ endpoints: { ethereum: [a.url] } }), headTtlMs: 0 })
    const policy = await checkConditions({ accessControlConditions: [{ ...erc20('0x5FbDB2315678afecb367f032d93F642f64180aa3'), chain: 'ethereum' }] })
    expect(await codeOf(gate.decide(policy, a.accounts[1]!.address))).toBe('CHAIN_RPC_FAILED')
  })
})
