import '../../../helpers/quiet-lit.ts'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type KeyPairSigner, lamports, signBytes } from '@solana/kit'
import type { Address as EvmAddress } from 'viem'
import { AccessGate, ChainGate, ChainReader, checkConditions, signAuth, signSolanaAuth } from '../../../../src/core/access/index.ts'
import type { ShadwError } from '../../../../src/core/errors.ts'
import { DOMAIN, FN } from '../../../helpers/access-fixtures.ts'
import { type EvmNode, HARDHAT_CHAIN, startEvmNode } from '../../../helpers/evm.ts'
import { GENESIS, type SolanaChain, startSolana } from '../../../helpers/solana.ts'

const SOL = 1_000_000_000n
const OR = { operator: 'or' }
const AND = { operator: 'and' }

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { return (err as ShadwError).code ?? String(err) }
  return 'PASSED'
}

/** A Lit solRpc condition, as Lit's documentation writes them. */
function sol (method: string, params: string[], test: { key?: string, comparator: string, value: string }, chain = 'solana'): Record<string, unknown> {
  return { method, params, pdaParams: [], pdaInterface: { offset: 0, fields: {} }, pdaKey: '', chain, returnValueTest: { key: '', ...test } }
}

function siwsSigner (signer: KeyPairSigner): { address: string, signMessage: (m: Uint8Array) => Promise<Uint8Array> } {
  return { address: signer.address, signMessage: async m => await signBytes(signer.keyPair.privateKey, m) }
}

describe('Solana conditions on a real SVM (litesvm behind a loopback JSON-RPC frame)', () => {
  let chain: SolanaChain
  let twin: SolanaChain
  let evm: EvmNode
  let token: EvmAddress
  let treasury: EvmAddress

  beforeAll(async () => {
    chain = await startSolana()
    twin = await startSolana()
    evm = await startEvmNode()
    const [admin, a1] = evm.accounts
    treasury = a1!.address
    token = await evm.deploy('Token20', [1000n])
    await evm.write(token, 'Token20', 'transfer', [treasury, 10n], admin)
  }, 120_000)

  afterAll(async () => { await Promise.all([chain?.close(), twin?.close(), evm?.stop()]) })

  const gateOn = (endpoints: Record<string, string[]>, opts: { maxPinAge?: bigint } = {}): ChainGate =>
    new ChainGate({ reader: new ChainReader({ endpoints, timeoutMs: 5_000 }), headTtlMs: 0, ...opts })

  it('grants a funded wallet a getBalance condition, and refuses it at the next slot once a signed transfer moved its SOL away', async () => {
    const tenant = await chain.wallet(3n)
    const sink = await chain.wallet(1n)
    const access = { solRpcConditions: [sol('getBalance', [':userAddress'], { comparator: '>=', value: String(2n * SOL) })] }
    const gate = new AccessGate({ domain: DOMAIN, chain: gateOn({ solana: [chain.url] }) })
    const grant = await gate.authorize({ fn: FN, access, auth: await signSolanaAuth(siwsSigner(tenant), { domain: DOMAIN, fn: FN }) })
    expect(grant).toEqual({ path: 'chain', address: tenant.address, blocks: { solana: String(chain.slot()) } })

    const before = chain.slot()
    await chain.transferSol(tenant, sink.address, 2n * SOL)
    chain.advance()
    expect(chain.svm.getBalance(tenant.address)).toBeLessThan(lamports(2n * SOL))
    const auth = await signSolanaAuth(siwsSigner(tenant), { domain: DOMAIN, fn: FN })
    const refused = await gate.authorize({ fn: FN, access, auth }).catch((err: ShadwError) => err)
    expect(refused).toMatchObject({ code: 'ACCESS_DENIED', details: { blocks: { solana: String(before + 1n) } } })
    // the recipient now passes the same condition
    expect((await gate.authorize({ fn: FN, access, auth: await signSolanaAuth(siwsSigner(sink), { domain: DOMAIN, fn: FN }) })).path).toBe('chain')
  })

  it('grants an SPL token holder (balanceOfToken, getTokenAccountBalance) and refuses after a token transfer', async () => {
    const issuer = await chain.wallet(5n)
    const holder = await chain.wallet(1n)
    const buyer = await chain.wallet(1n)
    const mint = await chain.createMint(issuer, 2)
    const account = await chain.mintTo(issuer, mint, holder.address, 250n)
    chain.advance()
    const gate = gateOn({ solana: [chain.url] })
    const holds = await checkConditions({ solRpcConditions: [sol('balanceOfToken', [mint], { key: '$.amount', comparator: '>=', value: '200' })] })
    const accountHolds = await checkConditions({ solRpcConditions: [sol('getTokenAccountBalance', [account], { key: '$.amount', comparator: '>=', value: '200' })] })
    expect((await gate.decide(holds, holder.address)).pass).toBe(true)
    expect((await gate.decide(holds, buyer.address)).pass).toBe(false)
    expect((await gate.decide(accountHolds, holder.address)).pass).toBe(true)

    await chain.transferToken(holder, mint, buyer.address, 100n)
    chain.advance()
    expect((await gate.decide(holds, holder.address)).pass).toBe(false)
    expect((await gate.decide(accountHolds, holder.address)).pass).toBe(false)
    const buyerHolds = await checkConditions({ solRpcConditions: [sol('balanceOfToken', [mint], { key: '$.amount', comparator: '=', value: '100' })] })
    expect((await gate.decide(buyerHolds, buyer.address)).pass).toBe(true)
    // the account's owner program, and a token account read as a wallet: the condition's own error
    const ownedByToken = await checkConditions({ solRpcConditions: [sol('getAccountInfo', [account], { key: '$.owner', comparator: '=', value: 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA' })] })
    expect((await gate.decide(ownedByToken, holder.address)).pass).toBe(true)
    const notAToken = await checkConditions({ solRpcConditions: [sol('getTokenAccountBalance', [holder.address], { key: '$.amount', comparator: '>', value: '0' })] })
    expect(await codeOf(gate.decide(notAToken, holder.address))).toBe('CONDITION_CALL_FAILED')
  })

  it('refuses when two endpoints answer differently (CHAIN_RPC_DISAGREE), and a wrong cluster or a stale pin with their codes', async () => {
    const tenant = await chain.wallet(2n)
    twin.svm.warpToSlot(chain.slot())
    twin.svm.airdrop(tenant.address, lamports(SOL))
    const policy = await checkConditions({ solRpcConditions: [sol('getBalance', [':userAddress'], { comparator: '>=', value: String(SOL) })] })
    expect((await gateOn({ solana: [chain.url] }).decide(policy, tenant.address)).pass).toBe(true)
    expect((await gateOn({ solana: [twin.url] }).decide(policy, tenant.address)).pass).toBe(true)
    // both grant, but not on the same state: one of them is lying, so neither is believed
    expect(await codeOf(gateOn({ solana: [chain.url, twin.url] }).decide(policy, tenant.address))).toBe('CHAIN_RPC_DISAGREE')

    const devnet = await startSolana({ genesisHash: GENESIS.solanaDevnet })
    try {
      expect(await codeOf(gateOn({ solana: [devnet.url] }).decide(policy, tenant.address))).toBe('CHAIN_RPC_FAILED')
      const onDevnet = await checkConditions({ solRpcConditions: [sol('getBalance', [':userAddress'], { comparator: '>=', value: '0' }, 'solanaDevnet')] })
      expect((await gateOn({ solanaDevnet: [devnet.url] }).decide(onDevnet, tenant.address)).pass).toBe(true)
    } finally { await devnet.close() }

    const gate = gateOn({ solana: [chain.url] }, { maxPinAge: 4n })
    expect(await codeOf(gate.decide(policy, tenant.address, { solana: chain.slot() + 10n }))).toBe('CHAIN_BLOCK_INVALID')
    const old = chain.slot()
    chain.advance(10n)
    expect(await codeOf(gate.decide(policy, tenant.address, { solana: old }))).toBe('CHAIN_BLOCK_INVALID')
  })

  it('decides unified conditions mixing EVM and Solana with and/or, reading both chains at their pins', async () => {
    const tenant = await chain.wallet(2n)
    const solRich = { conditionType: 'solRpc', ...sol('getBalance', [':userAddress'], { comparator: '>=', value: String(SOL) }) }
    const solWhale = { conditionType: 'solRpc', ...sol('getBalance', [':userAddress'], { comparator: '>=', value: String(1000n * SOL) }) }
    const treasuryHolds = { conditionType: 'evmBasic', contractAddress: token, standardContractType: 'ERC20', chain: HARDHAT_CHAIN, method: 'balanceOf', parameters: [treasury], returnValueTest: { comparator: '>', value: '0' } }
    const userHolds = { ...treasuryHolds, parameters: [':userAddress'] }
    const gate = gateOn({ solana: [chain.url], [HARDHAT_CHAIN]: [evm.url] })
    const both = await checkConditions({ unifiedAccessControlConditions: [solRich, AND, treasuryHolds] })
    const either = await checkConditions({ unifiedAccessControlConditions: [solWhale, OR, treasuryHolds] })
    const neither = await checkConditions({ unifiedAccessControlConditions: [solWhale, OR, [treasuryHolds, AND, solWhale]] })
    const decided = await gate.decide(both, tenant.address)
    expect(decided.pass).toBe(true)
    expect(Object.keys(decided.blocks).sort()).toEqual([HARDHAT_CHAIN, 'solana'].sort())
    expect((await gate.decide(either, tenant.address)).pass).toBe(true)
    expect((await gate.decide(neither, tenant.address)).pass).toBe(false)

    // a tenant signed in with both accounts (Lit's per-family auth map) is read on each chain as itself
    const admin = evm.accounts[0]!
    const ethSigner = { getAddress: async () => admin.address, signMessage: async (message: string) => await admin.signMessage!({ message }) }
    const accessGate = new AccessGate({ domain: DOMAIN, chain: gate })
    const access = { unifiedAccessControlConditions: [solRich, AND, userHolds] }
    const ethAuth = async (): Promise<unknown> => await signAuth(ethSigner, { domain: DOMAIN, fn: FN })
    const solAuth = async (): Promise<unknown> => await signSolanaAuth(siwsSigner(tenant), { domain: DOMAIN, fn: FN })
    const grant = await accessGate.authorize({ fn: FN, access, auth: { ethereum: await ethAuth(), solana: await solAuth() } })
    expect(grant.address).toBe(admin.address)
    expect(Object.keys(grant.blocks ?? {}).sort()).toEqual([HARDHAT_CHAIN, 'solana'].sort())
    expect(await codeOf(accessGate.authorize({ fn: FN, access, auth: await solAuth() }))).toBe('AUTH_WRONG_CHAIN')
    expect(await codeOf(accessGate.authorize({ fn: FN, access, auth: { ethereum: await solAuth(), solana: await ethAuth() } }))).toBe('AUTH_MALFORMED')
    const poor = await chain.wallet(0n)
    expect(await codeOf(accessGate.authorize({ fn: FN, access, auth: { ethereum: await ethAuth(), solana: await signSolanaAuth(siwsSigner(poor), { domain: DOMAIN, fn: FN }) } }))).toBe('ACCESS_DENIED')

    // the EVM side changes: the treasury empties its tokens, the next block refuses `both`
    await evm.write(token, 'Token20', 'transfer', [evm.accounts[0]!.address, 10n], evm.accounts[1])
    expect((await gate.decide(both, tenant.address)).pass).toBe(false)
    expect((await gate.decide(either, tenant.address)).pass).toBe(false)

    // the tenant's address on the other chain family cannot be read: its own code, never a guess
    const mixedUser = await checkConditions({ unifiedAccessControlConditions: [solRich, AND, userHolds] })
    expect(await codeOf(gate.decide(mixedUser, tenant.address))).toBe('AUTH_WRONG_CHAIN')
    expect(await codeOf(gate.decide(both, treasury))).toBe('AUTH_WRONG_CHAIN')
  })

  it('still refuses Solana conditions with SOLANA_UNCONFIGURED on a node without a Solana endpoint', async () => {
    const tenant = await chain.wallet(2n)
    const access = { solRpcConditions: [sol('getBalance', [':userAddress'], { comparator: '>=', value: '1' })] }
    const auth = async (): Promise<unknown> => await signSolanaAuth(siwsSigner(tenant), { domain: DOMAIN, fn: FN })
    const evmOnly = new AccessGate({ domain: DOMAIN, chain: gateOn({ [HARDHAT_CHAIN]: [evm.url] }) })
    expect(await codeOf(evmOnly.authorize({ fn: FN, access, auth: await auth() }))).toBe('SOLANA_UNCONFIGURED')
    expect(await codeOf(new AccessGate({ domain: DOMAIN }).authorize({ fn: FN, access, auth: await auth() }))).toBe('SOLANA_UNCONFIGURED')
    const devnetOnly = gateOn({ solanaDevnet: [chain.url] })
    expect(await codeOf(devnetOnly.decide(await checkConditions(access), tenant.address))).toBe('SOLANA_UNCONFIGURED')
  })

  it('checks Solana auth (SIWS, ed25519): forged, wrong domain, replayed, and an Ethereum auth on a Solana condition', async () => {
    const tenant = await chain.wallet(2n)
    const thief = await chain.wallet(1n)
    const access = { solRpcConditions: [sol('getBalance', [':userAddress'], { comparator: '>=', value: '1' })] }
    const gate = new AccessGate({ domain: DOMAIN, chain: gateOn({ solana: [chain.url] }) })
    const good = await signSolanaAuth(siwsSigner(tenant), { domain: DOMAIN, fn: FN })
    // the thief signs a message claiming the tenant's address
    const forged = { ...good, sig: (await signSolanaAuth(siwsSigner(thief), { domain: DOMAIN, fn: FN })).sig }
    expect(await codeOf(gate.authorize({ fn: FN, access, auth: forged }))).toBe('AUTH_FORGED')
    expect(await codeOf(gate.authorize({ fn: FN, access, auth: { ...good, signedMessage: good.signedMessage.replace('Nonce: ', 'Nonce: 0') } }))).toBe('AUTH_FORGED')
    expect(await codeOf(gate.authorize({ fn: FN, access, auth: await signSolanaAuth(siwsSigner(tenant), { domain: 'evil.example', fn: FN }) }))).toBe('AUTH_WRONG_DOMAIN')
    expect((await gate.authorize({ fn: FN, access, auth: good })).address).toBe(tenant.address)
    expect(await codeOf(gate.authorize({ fn: FN, access, auth: good }))).toBe('AUTH_REPLAYED')
    const { Wallet } = await import('ethers')
    const eth = Wallet.createRandom()
    expect(await codeOf(gate.authorize({ fn: FN, access, auth: await signAuth(eth, { domain: DOMAIN, fn: FN }) }))).toBe('AUTH_WRONG_CHAIN')
  })

  it('refuses hostile endpoints with typed errors in bounded time: silent, malformed, stale, huge', async () => {
    const tenant = await chain.wallet(2n)
    const policy = await checkConditions({ solRpcConditions: [sol('getBalance', [':userAddress'], { comparator: '>=', value: '1' })] })
    // an endpoint that is honest about the cluster and the slot, then misbehaves on the read itself
    const lie = async (balance: (slot: number) => string | null): Promise<{ url: string, close: () => void }> => {
      const server = createServer((req, res) => {
        let body = ''
        req.on('data', (c: Buffer) => { body += c.toString() })
        req.on('end', () => {
          const { id, method } = JSON.parse(body) as { id: number, method: string }
          const slot = Number(chain.slot())
          const result = method === 'getGenesisHash' ? JSON.stringify(GENESIS.solana) : method === 'getSlot' ? String(slot) : balance(slot)
          if (result === null) return // never answers
          res.writeHead(200, { 'content-type': 'application/json' })
          res.end(`{"jsonrpc":"2.0","id":${id},"result":${result}}`)
        })
      })
      await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
      return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => { server.closeAllConnections(); server.close() } }
    }
    const cases: Array<[string, (slot: number) => string | null, string]> = [
      ['silent', () => null, 'CHAIN_RPC_FAILED'],
      ['not a context answer', () => '12345', 'CHAIN_RPC_FAILED'],
      ['a balance that is not a number', slot => `{"context":{"slot":${slot}},"value":"lots"}`, 'CHAIN_RPC_FAILED'],
      ['from before the pin', slot => `{"context":{"slot":${slot - 1}},"value":5000000000}`, 'CHAIN_BLOCK_INVALID'],
      ['huge', slot => `{"context":{"slot":${slot}},"value":5,"pad":"${'x'.repeat(100_000)}"}`, 'CONDITION_CALL_FAILED']
    ]
    for (const [what, answer, code] of cases) {
      const endpoint = await lie(answer)
      try {
        const gate = new ChainGate({ reader: new ChainReader({ endpoints: { solana: [endpoint.url] }, timeoutMs: 500 }), headTtlMs: 0 })
        expect(await codeOf(gate.decide(policy, tenant.address)), what).toBe(code)
      } finally { endpoint.close() }
    }
  })
})
