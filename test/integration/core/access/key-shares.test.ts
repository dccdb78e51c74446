import '../../../helpers/quiet-lit.ts'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Address } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import {
  AccessGate, ChainGate, ChainReader, ephemeralKeyPair, KeyHolder, openShare, rebuildKey, signAuth, splitKey, verifyRelease, type KeyRelease
} from '../../../../src/core/access/index.ts'
import type { ShadwError } from '../../../../src/core/errors.ts'
import { DOMAIN, FN } from '../../../helpers/access-fixtures.ts'
import { type EvmNode, HARDHAT_CHAIN, startEvmNode } from '../../../helpers/evm.ts'

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { return (err as ShadwError).code ?? String(err) }
  return 'PASSED'
}

function signerOf (account: LocalAccount): { getAddress: () => Promise<string>, signMessage: (m: string) => Promise<string> } {
  return { getAddress: async () => account.address, signMessage: async message => await account.signMessage({ message }) }
}

describe('condition-gated keys, 3 of 5 holders, on a real EVM node', () => {
  let evm: EvmNode
  let token: Address
  let holders: KeyHolder[]
  const key = b4a.from('a function secret of 32 bytes!!!')

  beforeAll(async () => {
    evm = await startEvmNode()
    token = await evm.deploy('Token20', [1000n])
    await evm.write(token, 'Token20', 'transfer', [evm.accounts[1]!.address, 1n])
    const access = [{
      conditionType: 'evmBasic', contractAddress: token, standardContractType: 'ERC20', chain: HARDHAT_CHAIN, method: 'balanceOf', parameters: [':userAddress'], returnValueTest: { comparator: '>', value: '0' }
    }]
    const shares = await splitKey(key, 3, 5)
    // five holders, each deciding on its own: its own gate, replay guard and RPC reader
    holders = shares.map(share => new KeyHolder({
      share,
      fn: FN,
      access,
      gate: new AccessGate({ domain: DOMAIN, chain: new ChainGate({ reader: new ChainReader({ endpoints: { [HARDHAT_CHAIN]: [evm.url] } }) }) }),
      keyPair: crypto.keyPair()
    }))
  }, 120_000)

  afterAll(async () => { await evm?.stop() })

  it('releases sealed shares to a token holder; any 3 rebuild the key in the requester only, 2 do not', async () => {
    const holder = evm.accounts[1] as LocalAccount
    const auth = await signAuth(signerOf(holder), { domain: DOMAIN, fn: FN })
    const ephemeral = ephemeralKeyPair()
    const released: KeyRelease[] = await Promise.all(holders.map(async h => await h.release({ auth, to: ephemeral.publicKey })))
    for (const r of released) {
      expect(verifyRelease(r.record)).toBe(true)
      expect(r.record.tenant).toBe(holder.address)
      expect(Object.keys(r.record.blocks)).toEqual([HARDHAT_CHAIN])
      // a record changed after signing does not verify
      expect(verifyRelease({ ...r.record, tenant: evm.accounts[2]!.address })).toBe(false)
    }
    const shares = released.map(r => openShare(r.sealed, ephemeral))
    expect(b4a.equals(await rebuildKey([shares[0]!, shares[2]!, shares[4]!]), key)).toBe(true)
    expect(b4a.equals(await rebuildKey([shares[1]!, shares[3]!, shares[0]!]), key)).toBe(true)
    expect(b4a.equals(await rebuildKey([shares[1]!, shares[3]!]), key)).toBe(false)
    // another requester's key opens none of them
    expect(await codeOf((async () => openShare(released[0]!.sealed, ephemeralKeyPair()))())).toBe('ACCESS_DENIED')
    // the same auth is single use at each holder
    expect(await codeOf(holders[0]!.release({ auth, to: ephemeral.publicKey }))).toBe('AUTH_REPLAYED')
  })

  it('releases nothing to a requester without the token, nor to a forged auth', async () => {
    const stranger = evm.accounts[3] as LocalAccount
    const auth = await signAuth(signerOf(stranger), { domain: DOMAIN, fn: FN })
    const to = ephemeralKeyPair().publicKey
    for (const h of holders) expect(await codeOf(h.release({ auth, to }))).toBe('ACCESS_DENIED')
    const forged = { ...(await signAuth(signerOf(stranger), { domain: DOMAIN, fn: FN })), address: evm.accounts[1]!.address }
    for (const h of holders) expect(await codeOf(h.release({ auth: forged, to }))).toBe('AUTH_FORGED')
  })
})
