import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Testnet } from 'hyperdht/testnet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Address } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'
import { type EvmNode, HARDHAT_CHAIN, startEvmNode } from '../../helpers/evm.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'
import { publisher } from '../../helpers/invoke.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))

function shadw (env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

describe('gated invocation against a real chain', () => {
  let evm: EvmNode
  let token: Address

  beforeAll(async () => { evm = await startEvmNode(); token = await evm.deploy('Token20', [1000n]) }, 120_000)
  afterAll(async () => { await evm?.stop() })

  it('a super node started with --rpc grants an ERC-20 holder and refuses them once their tokens moved; shadw auth sign writes the auth', async () => {
    const holder = evm.accounts[1] as LocalAccount
    await evm.write(token, 'Token20', 'transfer', [holder.address, 5n])
    const superNode = await startSuperNode({ workers: 1, rpc: { [HARDHAT_CHAIN]: [evm.url] } })
    const domain = new URL(superNode.info.appUrl).host
    const pub = await publisher({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet)
    const access = [{
      conditionType: 'evmBasic', contractAddress: token, standardContractType: 'ERC20', chain: HARDHAT_CHAIN, method: 'balanceOf', parameters: [':userAddress'], returnValueTest: { comparator: '>', value: '0' }
    }]
    const ref = await pub.publish(await wat('echo'), { name: 'gated', version: '1.0.0', access })
    const dir = await tempDir()
    const env = { XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config'), SHADW_DEBUG: '' }
    const keyFile = join(dir, 'holder.key')
    await writeFile(keyFile, HOLDER_KEY + '\n', { mode: 0o600 })
    const input = join(dir, 'input.txt')
    await writeFile(input, 'token holders only')
    const bootstrap = superNode.info.bootstrap.join(',')

    const authFile = join(dir, 'auth.json')
    const signed = await shadw(env, 'auth', 'sign', '--fn', ref, '--domain', domain, '--key', keyFile, '--expires', '2m', '--out', authFile)
    expect(signed.stderr).toBe('')
    expect(signed.stdout).toBe(`signed by ${holder.address} for ${ref} on ${domain}, valid 2m: ${authFile}\n`)
    expect(JSON.parse(await readFile(authFile, 'utf8')).address).toBe(holder.address)
    const head = Number(await evm.client.getBlockNumber())
    const ok = await shadw(env, 'invoke', ref, '--input', input, '--auth', authFile, '--bootstrap', bootstrap, '--deadline', '30000', '--json')
    expect(ok.stderr).toBe('')
    const doc = JSON.parse(ok.stdout) as { output: string, receipts: Array<{ tenant: string, chainBlocks?: unknown }> }
    expect(doc.output).toBe('token holders only')
    // the receipt names the tenant and signs the block the grant was read at
    expect(doc.receipts[0]?.tenant).toBe(holder.address)
    expect(doc.receipts[0]?.chainBlocks).toEqual([{ chain: HARDHAT_CHAIN, block: head }])
    const receiptFile = join(dir, 'invoke.json')
    await writeFile(receiptFile, ok.stdout)
    const verified = await shadw(env, 'verify-receipt', receiptFile)
    expect(verified.stdout).toMatch(/^receipt valid/)

    // a block pinned by the caller: a later block exists, every executor reads at the pin and signs it
    await evm.write(token, 'Token20', 'transfer', [evm.accounts[2]!.address, 1n], holder)
    expect((await shadw(env, 'auth', 'sign', '--fn', ref, '--domain', domain, '--key', keyFile, '--out', authFile)).code).toBe(0)
    const pinned = await shadw(env, 'invoke', ref, '--input', input, '--auth', authFile, '--block', `${HARDHAT_CHAIN}=${head}`, '--bootstrap', bootstrap, '--deadline', '30000', '--json')
    expect(pinned.stderr).toBe('')
    expect((JSON.parse(pinned.stdout) as { receipts: Array<{ chainBlocks?: unknown }> }).receipts[0]?.chainBlocks).toEqual([{ chain: HARDHAT_CHAIN, block: head }])
    expect((await shadw(env, 'invoke', ref, '--block', 'sepolia=-1', '--bootstrap', bootstrap)).stderr).toMatch(/^shadw: INVALID_ARGUMENT: --block "sepolia=-1" is not CHAIN=BLOCK/)

    // the holder sends the tokens away: the next block takes access away
    await evm.write(token, 'Token20', 'transfer', [evm.accounts[2]!.address, 4n], holder)
    expect((await shadw(env, 'auth', 'sign', '--fn', ref, '--domain', domain, '--key', keyFile, '--out', authFile)).code).toBe(0)
    const denied = await shadw(env, 'invoke', ref, '--input', input, '--auth', authFile, '--bootstrap', bootstrap, '--deadline', '30000')
    expect(denied.code).toBe(1)
    expect(denied.stderr).toMatch(/ACCESS_DENIED/)
    expect(denied.stdout).toBe('')

    // a bad --rpc is refused before anything starts
    const bad = await shadw(env, 'start', '--rpc', 'nochain=http://127.0.0.1:1', '--port', '0')
    expect(bad.stderr).toMatch(/^shadw: INVALID_ARGUMENT: unknown chain "nochain"/)
  }, 180_000) // seven CLI processes, each starting a node: slow on a loaded 2-core machine
})

/** Hardhat's second default account (index 1), the `holder` above. */
const HOLDER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
