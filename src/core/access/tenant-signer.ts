/**
 * Where a tenant's page gets its SIWE signature: from an injected wallet (EIP-1193
 * `window.ethereum`: `eth_requestAccounts`, then `personal_sign`) when there is one, or from
 * a local secp256k1 key (tests, scripts, headless tenants).
 */
import { Wallet, utils } from 'ethers'
import { ShadwError } from '../errors.ts'
import type { MessageSigner } from './siwe-auth.ts'

/** The one method of an EIP-1193 provider we use. */
export interface Eip1193Provider {
  request (args: { method: string, params?: unknown[] }): Promise<unknown>
}

/** EIP-1193's code for "the user rejected the request". */
const USER_REJECTED = 4001

/** A {@link MessageSigner} over an EIP-1193 provider; asks for the account on first use. */
export function eip1193Signer (provider: Eip1193Provider): MessageSigner {
  let account: Promise<string> | null = null
  const getAddress = async (): Promise<string> => {
    account ??= (async () => {
      const accounts = await walletCall(provider, 'eth_requestAccounts', [])
      const first = Array.isArray(accounts) ? accounts[0] : undefined
      if (typeof first !== 'string' || !utils.isAddress(first)) throw ShadwError.AUTH_MALFORMED('the wallet returned no account')
      return utils.getAddress(first)
    })().catch((err: unknown) => { account = null; throw err })
    return await account
  }
  return {
    getAddress,
    async signMessage (message: string): Promise<string> {
      const address = await getAddress()
      // personal_sign takes the message as hex-encoded UTF-8, then the account (EIP-1474 order)
      const sig = await walletCall(provider, 'personal_sign', [utils.hexlify(utils.toUtf8Bytes(message)), address])
      if (typeof sig !== 'string') throw ShadwError.AUTH_MALFORMED('the wallet returned no signature')
      return sig
    }
  }
}

/** Options of {@link tenantSigner}. */
export interface TenantSignerOptions {
  /** an EIP-1193 provider (default: `globalThis.ethereum` when present) */
  provider?: Eip1193Provider
  /** a secp256k1 private key (hex) used when there is no provider */
  privateKey?: string
}

/**
 * The tenant's signer: the injected wallet when present, else the local key.
 *
 * @throws ShadwError `INVALID_ARGUMENT` when there is neither.
 *
 * @example
 * ```ts
 * const auth = await signAuth(tenantSigner(), { domain: location.host, fn })
 * ```
 */
export function tenantSigner (options: TenantSignerOptions = {}): MessageSigner {
  const injected = (globalThis as { ethereum?: unknown }).ethereum
  const provider = options.provider ?? (isProvider(injected) ? injected : undefined)
  if (provider !== undefined) return eip1193Signer(provider)
  if (options.privateKey !== undefined) {
    try {
      return new Wallet(options.privateKey)
    } catch {
      throw ShadwError.INVALID_ARGUMENT('privateKey is not a secp256k1 private key')
    }
  }
  throw ShadwError.INVALID_ARGUMENT('no injected wallet (window.ethereum) and no private key')
}

function isProvider (value: unknown): value is Eip1193Provider {
  return typeof value === 'object' && value !== null && typeof (value as { request?: unknown }).request === 'function'
}

async function walletCall (provider: Eip1193Provider, method: string, params: unknown[]): Promise<unknown> {
  try {
    return await provider.request({ method, params })
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code
    if (code === USER_REJECTED) throw ShadwError.ABORTED(`the wallet user rejected ${method}`)
    const message = err instanceof Error ? err.message : String((err as { message?: unknown } | null)?.message ?? err)
    throw ShadwError.AUTH_MALFORMED(`wallet ${method} failed: ${message.slice(0, 200)}`)
  }
}
