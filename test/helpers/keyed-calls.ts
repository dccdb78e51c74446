/**
 * What the keyed-call tests share (call-keys, call-keys-deadline, cli-secrets): an ERC-20
 * gate a test account passes, and a light node that deals keys once it reaches the holders.
 */
import type { Testnet } from 'hyperdht/testnet'
import type { Address } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { keyHoldersTopic, KeyService } from '../../src/core/keys/index.ts'
import type { ShadwNode } from '../../src/core/node/index.ts'
import { type EvmNode, HARDHAT_CHAIN } from './evm.ts'
import { keyedNode, until } from './invoke.ts'

/** Deploys an ERC-20 and gives `holder` 5 of its 1000 tokens; `access`: the Lit condition "holds some". */
export async function erc20Gate (evm: EvmNode, holder: LocalAccount): Promise<{ token: Address, access: unknown[] }> {
  const token = await evm.deploy('Token20', [1000n])
  await evm.write(token, 'Token20', 'transfer', [holder.address, 5n])
  const access = [{ conditionType: 'evmBasic', contractAddress: token, standardContractType: 'ERC20', chain: HARDHAT_CHAIN, method: 'balanceOf', parameters: [':userAddress'], returnValueTest: { comparator: '>', value: '0' } }]
  return { token, access }
}

/** A light node with a started key service, once it is connected to every one of `holders` (`what`: the wait's name). */
export async function keyDealer (net: Testnet, holders: readonly string[], what: string): Promise<{ node: ShadwNode, keys: KeyService }> {
  const dealer = await keyedNode(net, 'light')
  const keys = new KeyService({ host: dealer.node, keyPair: dealer.keyPair })
  keys.start()
  await dealer.node.joinTopic(keyHoldersTopic(), { server: false, client: true })
  await until(what, () => holders.every(k => keys.peers().includes(k)), 60_000)
  return { node: dealer.node, keys }
}
