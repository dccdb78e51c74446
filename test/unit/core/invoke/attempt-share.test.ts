/**
 * How much of the caller's deadline one attempt gets (src/invoke/invoke-call.ts): half of
 * what remains when another executor could take over, all of it otherwise. The executors a
 * redundant call's other slots are about to ask are no alternative: with as many executors as
 * slots, each attempt gets the whole deadline, since nobody would be left to retry on.
 * The executors are played by a transport that signs real receipts and records each
 * attempt's time.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { runCall, type CallTransport } from '../../../../src/core/invoke/invoke-call.ts'
import type { RequestMessage, ResultMessage } from '../../../../src/core/invoke/protocol.ts'
import { prepareReceipt, signReceiptBatch } from '../../../../src/core/ledger/receipt-batch.ts'
import { sha256 } from '../../../../src/core/sha256.ts'
import { charge } from '../../../../src/core/pricing/price-curve.ts'

const publisher = 'ab'.repeat(32)
const price = { utilisationPpm: 0, fuelPrice: 500, bytePrice: 50 }
const NOW = 1_800_000_000_000

/** `n` honest echo executors; `attempts` gets each request's executor and time. */
function swarm (n: number): { t: CallTransport, attempts: Array<{ key: string, ms: number }> } {
  const keys = Array.from({ length: n }, () => crypto.keyPair())
  const hex = keys.map(k => b4a.toString(k.publicKey, 'hex'))
  const attempts: Array<{ key: string, ms: number }> = []
  const t: CallTransport = {
    pick: (exclude) => {
      const key = hex.find(k => !exclude.has(k))
      if (key === undefined) throw Object.assign(new Error('none left'), { code: 'NO_EXECUTORS' })
      return { key }
    },
    hasAlternative: (exclude, reserve = 0) => hex.filter(k => !exclude.has(k)).length > reserve,
    randomBytes: (len) => crypto.randomBytes(len),
    now: () => NOW,
    request: async (key, req: Omit<RequestMessage, 'type' | 'id'>, timeoutMs): Promise<ResultMessage> => {
      attempts.push({ key, ms: timeoutMs })
      // answered on a later turn: every slot has asked by then, as over a network
      await new Promise(resolve => setTimeout(resolve, 1))
      const fuel = 22
      const bytes = req.input.byteLength * 2
      const body = {
        fn: `${publisher}/echo@1.0.0`,
        manifestSignature: 'cd'.repeat(64),
        moduleHash: '01'.repeat(32),
        inputHash: sha256(req.input),
        outputHash: sha256(req.input),
        fuel,
        executor: key,
        tenant: 'ef'.repeat(32),
        time: NOW + 1,
        nonce: b4a.toString(req.nonce, 'hex'),
        deadline: req.deadline,
        bytes,
        price,
        total: charge(price, fuel, bytes)
      }
      const secretKey = (keys[hex.indexOf(key)] as { secretKey: Uint8Array }).secretKey
      const [signed] = signReceiptBatch([prepareReceipt(body)], secretKey)
      return { type: 'result', id: 1, output: req.input, receipt: (signed as { bytes: Uint8Array }).bytes, ledgerKey: new Uint8Array(32), ledgerIndex: 0 }
    }
  }
  return { t, attempts }
}

const run = async (executors: number, redundancy: number): Promise<number[]> => {
  const { t, attempts } = swarm(executors)
  const res = await runCall(t, `${publisher}/echo@^1`, b4a.from('share'), { deadline: 5_000, redundancy, quorum: 1 })
  expect(b4a.toString(res.output)).toBe('share')
  expect(new Set(attempts.map(a => a.key)).size).toBe(redundancy)
  return attempts.map(a => a.ms)
}

describe('the time one attempt gets', () => {
  it('is half the deadline when another executor could take over', async () => {
    expect(await run(2, 1)).toEqual([2_500])
  })

  it('is the whole deadline when the call\'s other slots take every other executor: nobody is left to retry on', async () => {
    expect(await run(3, 3)).toEqual([5_000, 5_000, 5_000])
    expect(await run(1, 1)).toEqual([5_000])
  })

  it('is half for every slot while a spare executor remains beyond the other slots\' own', async () => {
    expect(await run(3, 2)).toEqual([2_500, 2_500])
    expect(await run(4, 3)).toEqual([2_500, 2_500, 2_500])
  })
})
