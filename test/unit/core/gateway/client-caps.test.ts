import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { connect, handleFnRequest } from '../../../../src/core/gateway/index.ts'
import { sha256 } from '../../../../src/core/sha256.ts'
import { signReceipt } from '../../../../src/core/ledger/index.ts'
import { type InvokeOptions } from '../../../../src/core/invoke/index.ts'

async function failure (p: Promise<unknown>): Promise<ShadwError> {
  try { await p } catch (err) { if (err instanceof ShadwError) return err; throw err }
  throw new Error('expected a typed error')
}

describe('tenant spending caps in the SDK and the gateway', () => {
  const kp = crypto.keyPair()
  const seen: InvokeOptions[] = []
  // a real gateway handler in front of a stand-in invoke that echoes and signs a receipt
  const gateway = async (req: Request): Promise<Response> => await handleFnRequest(req, async (_ref, input, opts) => {
    seen.push(opts)
    if ((opts.maxCharge ?? Infinity) < 10) throw ShadwError.SPENDING_CAP_EXCEEDED('too dear here', { cap: 'call', worst: 10, limit: opts.maxCharge })
    const receipt = signReceipt({
      fn: `${'ab'.repeat(32)}/echo@1.0.0`,
      manifestSignature: 'cd'.repeat(64),
      moduleHash: '01'.repeat(32),
      inputHash: sha256(input),
      outputHash: sha256(input),
      fuel: 25,
      executor: b4a.toString(kp.publicKey, 'hex'),
      tenant: 't',
      time: 1,
      nonce: '04'.repeat(32),
      // 25 fuel at 10^6 µcredits per million fuel: 25 µcredits, under the cap of 30 the session holds
      deadline: 2,
      // input and output, which the SDK checks
      bytes: 2 * input.byteLength,
      price: { utilisationPpm: 0, fuelPrice: 1_000_000, bytePrice: 0 },
      total: 25
    }, kp.secretKey)
    return { output: input, receipts: [receipt], ledgers: [], dissenters: [], failures: [], attempts: 1 }
  })
  let fetches = 0
  const fetchStub = (async (url: URL, init: RequestInit) => { fetches++; return await gateway(new Request(url, init)) }) as unknown as typeof fetch
  const ref = `${'ab'.repeat(32)}/echo@^1`

  it('sends each call\'s cap as shadw-max-charge, holds the worst case against the session before sending, books the total each receipt signs, and refuses past it with SPENDING_CAP_EXCEEDED', async () => {
    const client = connect({ url: 'http://gateway.test/', fetch: fetchStub, spending: { perCall: 30, perSession: 100 } })
    for (let i = 0; i < 3; i++) await client.invoke(ref, b4a.from(`x${i}`))
    expect(seen.map(o => o.maxCharge)).toEqual([30, 30, 30])
    // each call held its cap of 30 and booked the 25 its receipt says
    expect(client.spending()).toEqual({ spent: 75, remaining: 25 })
    const over = await failure(client.invoke(ref, b4a.from('x3')))
    expect(over.code).toBe('SPENDING_CAP_EXCEEDED')
    expect(over.details).toMatchObject({ cap: 'session', worst: 30 })
    expect(fetches).toBe(3)
    // a smaller explicit cap still fits; the gateway's executors refuse it (402) and nothing is booked
    const refused = await failure(client.invoke(ref, b4a.from('x4'), { maxCharge: 5 }))
    expect(refused.code).toBe('SPENDING_CAP_EXCEEDED')
    expect(client.spending()).toEqual({ spent: 75, remaining: 25 })
  })

  it('the gateway answers SPENDING_CAP_EXCEEDED with 402 and refuses a malformed shadw-max-charge with 400', async () => {
    const cheap = await gateway(new Request(`http://gateway.test/fn/${ref}`, { method: 'POST', body: 'x', headers: { 'shadw-max-charge': '3' } }))
    expect(cheap.status).toBe(402)
    expect(cheap.headers.get('shadw-error-code')).toBe('SPENDING_CAP_EXCEEDED')
    const bad = await gateway(new Request(`http://gateway.test/fn/${ref}`, { method: 'POST', body: 'x', headers: { 'shadw-max-charge': '-1' } }))
    expect(bad.status).toBe(400)
  })
})
