/**
 * The access browser test page: a tenant page that gets its SIWE auth from an injected
 * EIP-1193 wallet, and a browser node's AccessGate deciding calls, both with the same code
 * Node runs.
 */
import { Wallet } from 'ethers'
import { AccessGate } from '../../../../src/core/access/access-gate.ts'
import type { FunctionId } from '../../../../src/core/access/function-id.ts'
import { signAuth } from '../../../../src/core/access/siwe-auth.ts'
import { tenantSigner } from '../../../../src/core/access/tenant-signer.ts'
import { ShadwError } from '../../../../src/core/errors.ts'

/** What the Node-side test reads back. */
export type Outcome = { ok: true, value: unknown } | { ok: false, code: string, message: string }

/** The page's API, driven by the Node-side test through `page.evaluate`. */
export interface AccessTestApi {
  /** injects `window.ethereum` over a key, as a wallet extension would; returns its address */
  injectWallet (privateKey: string, opts?: { reject?: boolean }): string
  /** JSON-RPC methods the injected wallet was asked for */
  walletCalls: string[]
  /** signs an auth for `fn` with whatever tenantSigner() finds */
  sign (fn: FunctionId, privateKey?: string): Promise<Outcome>
  /** a browser node's decision on a call */
  authorize (fn: FunctionId, access: unknown, auth: unknown): Promise<Outcome>
}

const gate = new AccessGate({ domain: location.host })

async function outcome (work: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await work() }
  } catch (err) {
    if (err instanceof ShadwError) return { ok: false, code: err.code, message: err.message }
    return { ok: false, code: 'NOT_A_SHADW_ERROR', message: String(err) }
  }
}

const api: AccessTestApi = {
  walletCalls: [],
  injectWallet (privateKey, opts = {}) {
    const wallet = new Wallet(privateKey)
    const ethereum = {
      async request ({ method, params = [] }: { method: string, params?: unknown[] }): Promise<unknown> {
        api.walletCalls.push(method)
        if (opts.reject === true) throw Object.assign(new Error('User rejected the request.'), { code: 4001 })
        if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [wallet.address.toLowerCase()]
        if (method === 'personal_sign') {
          const [data, account] = params as [string, string]
          if (account.toLowerCase() !== wallet.address.toLowerCase()) throw Object.assign(new Error('unknown account'), { code: 4100 })
          return await wallet.signMessage(Uint8Array.from((data.slice(2).match(/../g) ?? []).map(h => parseInt(h, 16))))
        }
        throw Object.assign(new Error('unsupported method ' + method), { code: 4200 })
      }
    };
    (window as unknown as { ethereum: unknown }).ethereum = ethereum
    return wallet.address
  },
  async sign (fn, privateKey) {
    return await outcome(async () => await signAuth(tenantSigner(privateKey === undefined ? {} : { privateKey }), { domain: location.host, fn }))
  },
  async authorize (fn, access, auth) {
    return await outcome(async () => await gate.authorize({ fn, access, auth }))
  }
}

;(window as unknown as { accessTest: AccessTestApi }).accessTest = api
