/**
 * The Lit part of the access browser test: a browser node's AccessGate with a LitGate whose
 * real LitNodeClient (loaded lazily in the page) talks to the loopback stand-in network.
 */
import { AccessGate } from '../../../../src/core/access/access-gate.ts'
import { checkConditions } from '../../../../src/core/access/conditions.ts'
import type { FunctionId } from '../../../../src/core/access/function-id.ts'
import { attachLit, type LitNetworkState } from '../../../../src/core/access/lit-client.ts'
import { encryptFunctionSecret, LitGate, type LitSecret } from '../../../../src/core/access/lit-gate.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import type { Outcome } from './page.ts'
import './page.ts'

/** The page's Lit API, driven by the Node-side test. */
export interface LitTestApi {
  /** publishes: encrypts a per-function secret under `access` with the page's LitNodeClient */
  publish (state: LitNetworkState, access: unknown): Promise<LitSecret>
  /** a browser node's decision on a Lit-gated call */
  authorize (fn: FunctionId, access: unknown, secret: LitSecret, auth: unknown): Promise<Outcome>
  /** whether the decryption key reached the console */
  leaked (): boolean
}

const logged: string[] = []
const log = console.log.bind(console)
console.log = (...args: unknown[]) => { logged.push(String(args[0])); log(...args) }

let gate: AccessGate | null = null

async function outcome (work: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await work() }
  } catch (err) {
    if (err instanceof ShadwError) return { ok: false, code: err.code, message: err.message }
    return { ok: false, code: 'NOT_A_SHADW_ERROR', message: String(err) }
  }
}

const api: LitTestApi = {
  async publish (state, access) {
    const client = await attachLit(state)
    gate = new AccessGate({ domain: location.host, lit: new LitGate({ connect: async () => client, requestTimeoutMs: 10_000 }) })
    const policy = await checkConditions(access)
    if (policy.public) throw new Error('expected conditions')
    return await encryptFunctionSecret(client, policy.conditions)
  },
  async authorize (fn, access, secret, auth) {
    return await outcome(async () => {
      if (gate === null) throw new Error('publish first')
      return await gate.authorize({ fn, access, litSecret: secret, auth })
    })
  },
  leaked: () => logged.some(line => line.startsWith('signature from encrypt op'))
}

;(window as unknown as { litTest: LitTestApi }).litTest = api
