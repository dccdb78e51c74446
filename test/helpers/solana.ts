/**
 * A Solana chain on loopback for the Solana access-condition tests.
 *
 * Why this exists: no Solana validator can run here (none is packaged for Debian, and
 * `solana-test-validator` is not on npm). litesvm is the real Solana runtime (the SVM, with
 * the system, SPL Token and associated-token programs): every transfer in the tests is a
 * signed transaction it executes. It serves no JSON-RPC, so this file only frames its state as
 * the JSON-RPC a Solana RPC node answers, over Node's http on 127.0.0.1 (random port), with the
 * real response envelopes (`{ jsonrpc, id, result: { context: { slot, apiVersion }, value } }`)
 * and JSON-RPC errors for what it does not answer.
 *
 * Methods answered: getSlot, getBlockHeight, getGenesisHash, getVersion, getHealth,
 * getBalance, getAccountInfo (base64 and, for SPL token accounts and mints, jsonParsed),
 * getTokenAccountBalance, getTokenAccountsByOwner (`{ mint }` or `{ programId }` filter, base64).
 * `minContextSlot` is honoured (error -32016 as a node gives it); `commitment` is accepted and
 * ignored (litesvm has one state: everything it executed is "finalized").
 *
 * What a full validator has and this has not: no history (reads see the current state, as on
 * a real node, where reads at past slots do not exist either), no getBlock/getBlockTime, no
 * genesis (the frame answers the genesis hash of the cluster it stands in for, mainnet-beta's
 * by default, so the reader's cluster check has something to check).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { FailedTransactionMetadata, LiteSVM } from 'litesvm'
import {
  type Address, type KeyPairSigner, type Instruction, type ReadonlyUint8Array, address as toAddress, appendTransactionMessageInstructions, createTransactionMessage,
  generateKeyPairSigner, getAddressDecoder, getAddressEncoder, lamports, pipe, setTransactionMessageFeePayerSigner,
  signTransactionMessageWithSigners
} from '@solana/kit'
import { getCreateAccountInstruction, getTransferSolInstruction } from '@solana-program/system'
import {
  TOKEN_PROGRAM_ADDRESS, findAssociatedTokenPda, getCreateAssociatedTokenIdempotentInstruction,
  getInitializeMint2Instruction, getMintToInstruction, getTransferInstruction
} from '@solana-program/token'

/** Genesis hashes of the clusters Lit names (what `getGenesisHash` answers on each). */
export const GENESIS = {
  solana: '5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d',
  solanaDevnet: 'EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG',
  solanaTestnet: '4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY'
} as const

const MINT_SIZE = 82n
const TOKEN_ACCOUNT_SIZE = 165
/** Bound on a request body: the methods answered take a few hundred bytes. */
const MAX_BODY = 64 * 1024
const encoder = getAddressEncoder()
const decoder = getAddressDecoder()

class RpcError extends Error {
  constructor (readonly code: number, message: string) { super(message) }
}

/** A litesvm chain behind a loopback JSON-RPC endpoint. */
export interface SolanaChain {
  url: string
  svm: LiteSVM
  /** a keypair with `sol` SOL airdropped (the airdrop is litesvm's, as a faucet's would be) */
  wallet: (sol?: bigint) => Promise<KeyPairSigner>
  /** a signed system transfer, executed by litesvm; throws if the runtime refuses it */
  transferSol: (from: KeyPairSigner, to: Address, lamports: bigint) => Promise<void>
  /** a new SPL mint (real createAccount + InitializeMint2 transaction) with `authority` minting */
  createMint: (authority: KeyPairSigner, decimals?: number) => Promise<Address>
  /** mints `amount` to `owner`'s associated token account (created in the same transaction) */
  mintTo: (authority: KeyPairSigner, mint: Address, owner: Address, amount: bigint) => Promise<Address>
  /** an SPL transfer between associated token accounts (the destination's created if missing) */
  transferToken: (from: KeyPairSigner, mint: Address, to: Address, amount: bigint) => Promise<void>
  /** the associated token account of `owner` for `mint` */
  ata: (owner: Address, mint: Address) => Promise<Address>
  /** moves the chain on: what a validator does every 400 ms */
  advance: (slots?: bigint) => void
  slot: () => bigint
  close: () => Promise<void>
}

/** Starts a litesvm chain behind a JSON-RPC endpoint on 127.0.0.1. */
export async function startSolana (options: { genesisHash?: string, slot?: bigint } = {}): Promise<SolanaChain> {
  const svm = new LiteSVM()
  svm.warpToSlot(options.slot ?? 100n)
  const genesis = options.genesisHash ?? GENESIS.solana
  const server = createServer((req, res) => { void serve(svm, genesis, req, res) })
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as AddressInfo

  const send = async (payer: KeyPairSigner, instructions: Instruction[]): Promise<void> => {
    const tx = await pipe(
      createTransactionMessage({ version: 0 }),
      m => setTransactionMessageFeePayerSigner(payer, m),
      m => svm.setTransactionMessageLifetimeUsingLatestBlockhash(m),
      m => appendTransactionMessageInstructions(instructions, m),
      async m => await signTransactionMessageWithSigners(m)
    )
    const result = svm.sendTransaction(tx)
    if (result instanceof FailedTransactionMetadata) throw new Error(`transaction failed: ${String(result.err())}\n${result.meta().logs().join('\n')}`)
    // a new blockhash for the next transaction, so two identical transfers are two transactions
    svm.expireBlockhash()
  }
  const ata = async (owner: Address, mint: Address): Promise<Address> => (await findAssociatedTokenPda({ owner, mint, tokenProgram: TOKEN_PROGRAM_ADDRESS }))[0]
  const createAta = async (payer: KeyPairSigner, owner: Address, mint: Address): Promise<{ ix: Instruction, at: Address }> => {
    const at = await ata(owner, mint)
    return { at, ix: getCreateAssociatedTokenIdempotentInstruction({ payer, ata: at, owner, mint }) }
  }

  return {
    url: `http://127.0.0.1:${port}`,
    svm,
    wallet: async (sol = 10n) => {
      const signer = await generateKeyPairSigner()
      const done = svm.airdrop(signer.address, lamports(sol * 1_000_000_000n))
      if (done === null || done instanceof FailedTransactionMetadata) throw new Error('airdrop failed')
      return signer
    },
    transferSol: async (from, to, amount) => {
      await send(from, [getTransferSolInstruction({ source: from, destination: to, amount: lamports(amount) })])
    },
    createMint: async (authority, decimals = 0) => {
      const mint = await generateKeyPairSigner()
      await send(authority, [
        getCreateAccountInstruction({ payer: authority, newAccount: mint, lamports: lamports(svm.minimumBalanceForRentExemption(MINT_SIZE)), space: MINT_SIZE, programAddress: TOKEN_PROGRAM_ADDRESS }),
        getInitializeMint2Instruction({ mint: mint.address, decimals, mintAuthority: authority.address })
      ])
      return mint.address
    },
    mintTo: async (authority, mint, owner, amount) => {
      const { at, ix } = await createAta(authority, owner, mint)
      await send(authority, [ix, getMintToInstruction({ mint, token: at, mintAuthority: authority, amount })])
      return at
    },
    transferToken: async (from, mint, to, amount) => {
      const { at, ix } = await createAta(from, to, mint)
      await send(from, [ix, getTransferInstruction({ source: await ata(from.address, mint), destination: at, authority: from, amount })])
    },
    ata,
    advance: (slots = 1n) => { svm.warpToSlot(svm.getClock().slot + slots) },
    slot: () => svm.getClock().slot,
    close: async () => { await new Promise<void>(resolve => { server.close(() => { resolve() }); server.closeAllConnections() }) }
  }
}

async function serve (svm: LiteSVM, genesis: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: { id?: unknown, method?: unknown, params?: unknown }
  try {
    if (req.method !== 'POST') throw new RpcError(-32600, 'Invalid request')
    const chunks: Buffer[] = []
    let size = 0
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.byteLength
      if (size > MAX_BODY) throw new RpcError(-32600, 'Invalid request: body too large')
      chunks.push(chunk)
    }
    body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body
  } catch (err) {
    reply(res, { jsonrpc: '2.0', id: null, error: err instanceof RpcError ? { code: err.code, message: err.message } : { code: -32700, message: 'Parse error' } })
    return
  }
  const id = body.id ?? null
  try {
    const params = Array.isArray(body.params) ? body.params as unknown[] : []
    reply(res, { jsonrpc: '2.0', id, result: answer(svm, genesis, String(body.method), params) })
  } catch (err) {
    const error = err instanceof RpcError ? { code: err.code, message: err.message } : { code: -32603, message: `Internal error: ${String(err)}` }
    reply(res, { jsonrpc: '2.0', id, error })
  }
}

function reply (res: ServerResponse, payload: unknown): void {
  const text = JSON.stringify(payload)
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function answer (svm: LiteSVM, genesis: string, method: string, params: unknown[]): unknown {
  const slot = svm.getClock().slot
  const config = (at: number): Record<string, unknown> => (typeof params[at] === 'object' && params[at] !== null ? params[at] : {}) as Record<string, unknown>
  const context = (at: number): { slot: number, apiVersion: string } => {
    const min = config(at)['minContextSlot']
    if (typeof min === 'number' && BigInt(min) > slot) throw new RpcError(-32016, 'Minimum context slot has not been reached')
    return { slot: Number(slot), apiVersion: '2.2.0' }
  }
  switch (method) {
    case 'getHealth': return 'ok'
    case 'getVersion': return { 'solana-core': '2.2.0', 'feature-set': 0 }
    case 'getGenesisHash': return genesis
    case 'getSlot': context(0); return Number(slot)
    case 'getBlockHeight': context(0); return Number(slot)
    case 'getBalance': {
      const ctx = context(1)
      return { context: ctx, value: Number(svm.getBalance(pubkey(params[0])) ?? 0n) }
    }
    case 'getAccountInfo': {
      const ctx = context(1)
      const account = svm.getAccount(pubkey(params[0]))
      const encoding = String(config(1)['encoding'] ?? 'base64')
      return { context: ctx, value: account.exists ? encodeAccount(svm, account, encoding) : null }
    }
    case 'getTokenAccountBalance': {
      const ctx = context(1)
      const account = svm.getAccount(pubkey(params[0]))
      if (!account.exists) throw new RpcError(-32602, 'Invalid param: could not find account')
      if (account.programAddress !== TOKEN_PROGRAM_ADDRESS || account.data.byteLength !== TOKEN_ACCOUNT_SIZE) throw new RpcError(-32602, 'Invalid param: not a Token account')
      return { context: ctx, value: tokenAmount(svm, account.data) }
    }
    case 'getTokenAccountsByOwner': {
      const ctx = context(2)
      const owner = pubkey(params[0])
      const filter = config(1)
      const mint = typeof filter['mint'] === 'string' ? pubkey(filter['mint']) : null
      const program = typeof filter['programId'] === 'string' ? pubkey(filter['programId']) : null
      if ((mint === null) === (program === null)) throw new RpcError(-32602, 'Invalid params: give mint or programId')
      if (program !== null && program !== TOKEN_PROGRAM_ADDRESS) return { context: ctx, value: [] }
      const encoding = String(config(2)['encoding'] ?? 'base64')
      const value = svm.getProgramAccounts(TOKEN_PROGRAM_ADDRESS)
        .filter(a => a.data.byteLength === TOKEN_ACCOUNT_SIZE && decoder.decode(a.data.slice(32, 64)) === owner && (mint === null || decoder.decode(a.data.slice(0, 32)) === mint))
        .sort((a, b) => a.address < b.address ? -1 : 1)
        .map(a => ({ pubkey: a.address, account: encodeAccount(svm, a, encoding) }))
      return { context: ctx, value }
    }
    default: throw new RpcError(-32601, 'Method not found')
  }
}

interface AccountLike { address: Address, programAddress: Address, lamports: bigint, executable: boolean, data: ReadonlyUint8Array }

function encodeAccount (svm: LiteSVM, a: AccountLike, encoding: string): unknown {
  const base = { lamports: Number(a.lamports), owner: a.programAddress, executable: a.executable, rentEpoch: 2 ** 64 - 1, space: a.data.byteLength }
  if (encoding === 'base64') return { ...base, data: [Buffer.from(a.data).toString('base64'), 'base64'] }
  if (encoding !== 'jsonParsed') throw new RpcError(-32602, `Invalid params: unsupported encoding ${encoding}`)
  if (a.programAddress === TOKEN_PROGRAM_ADDRESS && a.data.byteLength === TOKEN_ACCOUNT_SIZE) {
    const info = { mint: decoder.decode(a.data.slice(0, 32)), owner: decoder.decode(a.data.slice(32, 64)), tokenAmount: tokenAmount(svm, a.data), state: a.data[108] === 2 ? 'frozen' : 'initialized', isNative: false }
    return { ...base, data: { program: 'spl-token', parsed: { type: 'account', info }, space: a.data.byteLength } }
  }
  if (a.programAddress === TOKEN_PROGRAM_ADDRESS && a.data.byteLength === Number(MINT_SIZE)) {
    const view = new DataView(a.data.buffer, a.data.byteOffset)
    const info = { supply: String(view.getBigUint64(36, true)), decimals: a.data[44], isInitialized: a.data[45] === 1, mintAuthority: view.getUint32(0, true) === 1 ? decoder.decode(a.data.slice(4, 36)) : null }
    return { ...base, data: { program: 'spl-token', parsed: { type: 'mint', info }, space: a.data.byteLength } }
  }
  // a real node falls back to base64 for accounts it has no parser for
  return { ...base, data: [Buffer.from(a.data).toString('base64'), 'base64'] }
}

function tokenAmount (svm: LiteSVM, data: ReadonlyUint8Array): { amount: string, decimals: number, uiAmount: number, uiAmountString: string } {
  const amount = new DataView(data.buffer, data.byteOffset).getBigUint64(64, true)
  const mint = svm.getAccount(decoder.decode(data.slice(0, 32)))
  const decimals = mint.exists ? mint.data[44] ?? 0 : 0
  const text = decimals === 0 ? String(amount) : `${amount / 10n ** BigInt(decimals)}.${String(amount % 10n ** BigInt(decimals)).padStart(decimals, '0')}`.replace(/\.?0+$/, '')
  return { amount: String(amount), decimals, uiAmount: Number(text), uiAmountString: text }
}

function pubkey (value: unknown): Address {
  try {
    const a = toAddress(String(value))
    encoder.encode(a)
    return a
  } catch {
    throw new RpcError(-32602, 'Invalid param: Invalid')
  }
}
