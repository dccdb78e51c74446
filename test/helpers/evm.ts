/**
 * A real EVM node on loopback for the chain-gating tests: Hardhat's JSON-RPC node run as a
 * child process, offline (it compiles nothing, so it never fetches a compiler), and the
 * contracts of test/fixtures/contracts compiled with solc-js and deployed with viem.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import {
  type Abi, type Address, type Hex, type PublicClient, type WalletClient, type Account,
  createPublicClient, createWalletClient, defineChain, getAddress, http
} from 'viem'
import { mnemonicToAccount } from 'viem/accounts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const CONTRACTS = fileURLToPath(new URL('../fixtures/contracts/', import.meta.url))
const CONFIG = fileURLToPath(new URL('../fixtures/hardhat/hardhat.config.cjs', import.meta.url))
/** Hardhat's default accounts derive from this mnemonic, each funded with 10 000 ETH. */
const HARDHAT_MNEMONIC = 'test test test test test test test test test test test junk'
/** Hardhat prints this line once its JSON-RPC server listens. */
const READY = /Started HTTP and WebSocket JSON-RPC server at (http:\/\/127\.0\.0\.1:\d+)/
/** Start on a loaded 2-core machine takes a few seconds; this bounds the wait. */
const START_TIMEOUT_MS = 60_000

/** The node serves Sepolia's chain id, so conditions name a chain Lit's schema knows ('sepolia'). */
export const HARDHAT_CHAIN_ID = 11155111
export const HARDHAT_CHAIN = 'sepolia'

/** A compiled contract. */
export interface Artifact { abi: Abi, bytecode: Hex }

let compiled: Record<string, Artifact> | undefined

/** Compiles every .sol of test/fixtures/contracts with solc-js (once per process). */
export function compileContracts (): Record<string, Artifact> {
  if (compiled !== undefined) return compiled
  const require = createRequire(import.meta.url)
  const solc = require('solc') as { compile: (input: string) => string }
  const sources: Record<string, { content: string }> = {}
  for (const file of readdirSync(CONTRACTS)) if (file.endsWith('.sol')) sources[file] = { content: readFileSync(CONTRACTS + file, 'utf8') }
  const input = { language: 'Solidity', sources, settings: { optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } } }
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: Array<{ severity: string, formattedMessage: string }>
    contracts: Record<string, Record<string, { abi: Abi, evm: { bytecode: { object: string } } }>>
  }
  const errors = (output.errors ?? []).filter(e => e.severity === 'error')
  if (errors.length > 0) throw new Error(errors.map(e => e.formattedMessage).join('\n'))
  const out: Record<string, Artifact> = {}
  for (const file of Object.values(output.contracts)) {
    for (const [name, c] of Object.entries(file)) out[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` }
  }
  compiled = out
  return out
}

/** A running loopback EVM node. */
export interface EvmNode {
  url: string
  chain: ReturnType<typeof defineChain>
  /** Hardhat's funded accounts (first 10) */
  accounts: Account[]
  client: PublicClient
  wallet (account: Account): WalletClient
  /** deploys `name` from `from` (default account 0) and waits for its receipt */
  deploy (name: string, args?: readonly unknown[], from?: Account): Promise<Address>
  /** sends a contract write and waits for it to be mined */
  write (address: Address, name: string, fn: string, args: readonly unknown[], from?: Account): Promise<bigint>
  stop (): Promise<void>
}

/** A free loopback TCP port. */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => { typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')) })
    })
  })
}

/** Starts Hardhat's node on a free loopback port; stop it with `stop()`. */
export async function startEvmNode (): Promise<EvmNode> {
  const port = await freePort()
  const bin = createRequire(import.meta.url).resolve('hardhat/internal/cli/bootstrap.js')
  const child = spawn(process.execPath, [bin, 'node', '--hostname', '127.0.0.1', '--port', String(port), '--config', CONFIG], {
    cwd: ROOT,
    // no telemetry prompt, no analytics, nothing to download
    env: { ...process.env, HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true', DO_NOT_TRACK: '1', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const url = await waitReady(child)
  const chain = defineChain({ id: HARDHAT_CHAIN_ID, name: HARDHAT_CHAIN, nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [url] } } })
  const client = createPublicClient({ chain, transport: http(url), pollingInterval: 50 })
  const accounts: Account[] = Array.from({ length: 10 }, (_, i) => mnemonicToAccount(HARDHAT_MNEMONIC, { addressIndex: i }))
  const wallet = (account: Account): WalletClient => createWalletClient({ account, chain, transport: http(url) })
  const artifacts = compileContracts()
  const first = accounts[0] as Account
  return {
    url,
    chain,
    accounts,
    client,
    wallet,
    async deploy (name, args = [], from = first) {
      const artifact = artifacts[name]
      if (artifact === undefined) throw new Error(`no contract ${name}`)
      const hash = await wallet(from).deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args, account: from, chain })
      const receipt = await client.waitForTransactionReceipt({ hash, timeout: 30_000 })
      if (receipt.contractAddress == null || receipt.status !== 'success') throw new Error(`deploying ${name} failed`)
      return getAddress(receipt.contractAddress)
    },
    async write (address, name, fn, args, from = first) {
      const artifact = artifacts[name]
      if (artifact === undefined) throw new Error(`no contract ${name}`)
      const hash = await wallet(from).writeContract({ address, abi: artifact.abi, functionName: fn, args, account: from, chain })
      const receipt = await client.waitForTransactionReceipt({ hash, timeout: 30_000 })
      if (receipt.status !== 'success') throw new Error(`${name}.${fn} reverted`)
      return receipt.blockNumber
    },
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }
  }
}

async function waitReady (child: ChildProcess): Promise<string> {
  return await new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('hardhat node did not start in time:\n' + out.slice(-2000))) }, START_TIMEOUT_MS)
    const onData = (chunk: Buffer): void => {
      out += chunk.toString()
      if (out.length > 100_000) out = out.slice(-10_000)
      const match = READY.exec(out)
      if (match !== null) {
        clearTimeout(timer)
        // keep draining its output so the pipe never fills and blocks it
        child.stdout?.removeListener('data', onData)
        child.stdout?.resume()
        resolve(match[1] as string)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', (chunk: Buffer) => { out += chunk.toString() })
    child.once('exit', code => { clearTimeout(timer); reject(new Error(`hardhat node exited with ${String(code)}:\n${out.slice(-2000)}`)) })
  })
}
