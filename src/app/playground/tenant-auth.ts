import { HEX_KEY_PATTERN, isHexKey } from '../../core/hex.ts'
import type { NodeClient } from '../node-client.ts'

/** localStorage key of the playground's test tenant key (a throwaway secp256k1 key, not a wallet). */
const TEST_KEY = 'shadw.playgroundTenantKey'

/** A reference naming one exact version (`<key>/<name>@<semver>`): it needs no lookup to sign for. */
const EXACT_REF = new RegExp(`^(${HEX_KEY_PATTERN})/([a-z0-9][a-z0-9-]*)@(\\d+\\.\\d+\\.\\d+(?:[-+][0-9A-Za-z.-]+)?)$`)
/** The exact reference the node resolved a range to. */
const RESOLVED_REF = new RegExp(`^(${HEX_KEY_PATTERN})/([a-z0-9][a-z0-9-]*)@(.+)$`)

/** How a playground call proves who the tenant is (docs/access.md). */
export type AuthMode = 'none' | 'test-key' | 'wallet'

/** An injected EIP-1193 wallet, if the browser has one. */
export function hasWallet (): boolean {
  const e = (globalThis as { ethereum?: { request?: unknown } }).ethereum
  return typeof e?.request === 'function'
}

/**
 * The playground's test tenant: a secp256k1 key made in this browser on first use and kept in
 * localStorage, so the same address can be put on an allow-list and then sign calls. It is a
 * testing convenience, never a place for a key that holds anything. ethers loads only here.
 */
export async function testTenant (): Promise<{ address: string, privateKey: string }> {
  const { Wallet } = await import('ethers')
  let key = localStorage.getItem(TEST_KEY)
  if (key === null || !key.startsWith('0x') || !isHexKey(key.slice(2))) {
    key = Wallet.createRandom().privateKey
    localStorage.setItem(TEST_KEY, key)
  }
  const wallet = new Wallet(key)
  return { address: wallet.address, privateKey: key }
}

/**
 * Signs a SIWE auth for one call of `ref`, bound to the exact version it names; a range is
 * resolved by the node first (`loadFunction`), since an auth names one version.
 */
export async function signCall (client: NodeClient, mode: AuthMode, ref: string): Promise<unknown> {
  if (mode === 'none') return undefined
  let exact = EXACT_REF.exec(ref)
  if (exact === null) {
    const loaded = await client.call('loadFunction', { ref }, 30_000)
    exact = RESOLVED_REF.exec(loaded.ref)
  }
  if (exact === null) throw new Error(`cannot tell which version ${ref} names`)
  const fn = { publisher: exact[1] ?? '', name: exact[2] ?? '', version: exact[3] ?? '' }
  const [{ signAuth }, { tenantSigner }, { Wallet }] = await Promise.all([import('../../core/access/siwe-auth.ts'), import('../../core/access/tenant-signer.ts'), import('ethers')])
  // the test key signs even when a wallet is injected (tenantSigner would prefer the wallet)
  const signer = mode === 'wallet' ? tenantSigner() : new Wallet((await testTenant()).privateKey)
  return await signAuth(signer, { domain: location.host, fn })
}
