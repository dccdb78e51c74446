/**
 * The playground signs with an injected wallet: a page gets `window.ethereum` the way a wallet
 * extension injects it (an EIP-1193 object), backed by a real secp256k1 key (a viem local
 * account in the test process, reached through an exposed function), and calls a function
 * gated on an ERC-20 balance that the super node checks on a real Hardhat node.
 */
import '../../helpers/quiet-lit.ts'
import { join } from 'node:path'
import Corestore from 'corestore'
import type { BrowserContext } from 'playwright-core'
import type { Address, Hex } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Registry, RegistryFollows, createPublisherKeyPair } from '../../../src/core/registry/index.ts'
import { cWasm } from '../../fixtures/wasm/fixtures.ts'
import { openApp, until } from '../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../helpers/chromium.ts'
import { type EvmNode, HARDHAT_CHAIN, HARDHAT_CHAIN_ID, startEvmNode } from '../../helpers/evm.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'

/** An EIP-1193 provider in the page whose `personal_sign` is the account's, in this process. */
async function injectWallet (context: BrowserContext, account: LocalAccount): Promise<void> {
  await context.exposeFunction('shadwTestWalletSign', async (hex: Hex) => await account.signMessage({ message: { raw: hex } }))
  await context.addInitScript(([address, chainId]) => {
    const sign = (window as unknown as { shadwTestWalletSign: (hex: string) => Promise<string> }).shadwTestWalletSign
    const ethereum = {
      isTestWallet: true,
      async request ({ method, params }: { method: string, params?: unknown[] }): Promise<unknown> {
        switch (method) {
          case 'eth_requestAccounts':
          case 'eth_accounts': return [address]
          case 'eth_chainId': return `0x${chainId.toString(16)}`
          case 'personal_sign': {
            const [message, from] = params as [string, string]
            if (from.toLowerCase() !== address.toLowerCase()) throw Object.assign(new Error('unknown account'), { code: 4100 })
            return await sign(message)
          }
          default: throw Object.assign(new Error(`unsupported ${method}`), { code: 4200 })
        }
      }
    };
    (window as unknown as { ethereum: unknown }).ethereum = ethereum
  }, [account.address, HARDHAT_CHAIN_ID] as const)
}

describe('the playground with an injected wallet', () => {
  let evm: EvmNode
  let token: Address
  beforeAll(async () => {
    evm = await startEvmNode()
    token = await evm.deploy('Token20', [1000n])
  }, 120_000)
  afterAll(async () => { await evm?.stop() })

  it('a token holder\'s wallet signs the call and it runs; a wallet without the token is refused by the executor\'s chain read', async () => {
    // Hardhat's funded accounts: the holder pays the gas of giving its tokens away later
    const holder = evm.accounts[3] as LocalAccount
    const stranger = evm.accounts[4] as LocalAccount
    await evm.write(token, 'Token20', 'transfer', [holder.address, 5n])

    const storage = join(await tempDir('shadw-playground-wallet-'), 'storage')
    const store = new Corestore(storage)
    const registry = await Registry.create(store, createPublisherKeyPair())
    const access = [{ conditionType: 'evmBasic', contractAddress: token, standardContractType: 'ERC20', chain: HARDHAT_CHAIN, method: 'balanceOf', parameters: [':userAddress'], returnValueTest: { comparator: '>', value: '0' } }]
    await registry.publish(cWasm('raw-upper'), { name: 'token-upper', version: '1.0.0', access })
    const follows = await RegistryFollows.open(store)
    await follows.add(registry.key)
    await follows.close()
    const ref = `${registry.key}/token-upper@1.0.0`
    await registry.close()
    await store.close()

    const superNode = await startSuperNode({ storage, workers: 1, rpc: { [HARDHAT_CHAIN]: [evm.url] } })
    const browser = await launchChromium()
    const run = async (account: LocalAccount, input: string): Promise<{ output: string | null, code: string | null }> => {
      const context = await newContext(browser)
      await injectWallet(context, account)
      const page = await openApp(context, superNode.info.appUrl)
      await page.locator('#tab-playground').click()
      // the form offers the wallet only when one is injected
      await until('the wallet option', async () => await page.locator('#inv-auth option[value="wallet"]').count() === 1)
      await page.locator('#inv-ref').fill(ref)
      await page.locator('#inv-input').fill(input)
      await page.locator('#inv-auth').selectOption('wallet')
      await page.getByRole('button', { name: 'Invoke' }).click()
      await until('an answer', async () => await page.locator('#inv-output').count() === 1 || await page.locator('#inv-result.error').count() === 1, 60_000)
      const output = await page.locator('#inv-output').count() === 1 ? await page.locator('#inv-output').textContent() : null
      const code = await page.locator('#inv-result').getAttribute('data-code')
      const tenant = output === null ? null : await page.locator('#inv-result .receipt dd').nth(2).getAttribute('title')
      if (output !== null) expect(tenant).toBe(account.address)
      await context.close()
      return { output, code }
    }
    expect(await run(holder, 'wallet signed')).toEqual({ output: 'WALLET SIGNED', code: null })
    expect(await run(stranger, 'no token')).toEqual({ output: null, code: 'ACCESS_DENIED' })
    // the holder gives its tokens away: the next call, read at the new head, is refused
    await evm.write(token, 'Token20', 'transfer', [stranger.address, 5n], holder)
    expect(await run(holder, 'sold out')).toEqual({ output: null, code: 'ACCESS_DENIED' })
    expect(await run(stranger, 'now mine')).toEqual({ output: 'NOW MINE', code: null })
    await browser.close()
  }, 240_000)
})
