/**
 * The caller's checks of a result (src/invoke/invoke-call.ts): a receipt must repeat what the
 * request said — nonce, input, deadline — and bill only what happened — bytes moved, a total
 * within the tenant's cap. The executor side is played here by a transport that signs real
 * receipts for what it is asked, with one field changed at a time.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { runCall, type CallTransport } from '../../../../src/core/invoke/invoke-call.ts'
import type { RequestMessage, ResultMessage } from '../../../../src/core/invoke/protocol.ts'
import { prepareReceipt, signReceiptBatch } from '../../../../src/core/ledger/receipt-batch.ts'
import { sha256 } from '../../../../src/core/sha256.ts'
import { charge } from '../../../../src/core/pricing/price-curve.ts'

const executor = crypto.keyPair()
const executorKey = b4a.toString(executor.publicKey, 'hex')
const publisher = 'ab'.repeat(32)
const price = { utilisationPpm: 500_000, fuelPrice: 1_000_000, bytePrice: 1_048_576 }

interface Lie { deadline?: number, bytes?: number, total?: 'inflated' }

/** One executor that echoes its input and signs a priced receipt, lying as told. */
function transport (lie: Lie = {}): CallTransport {
  return {
    pick: (exclude) => { if (exclude.has(executorKey)) throw Object.assign(new Error('none left'), { code: 'NO_EXECUTORS' }); return { key: executorKey } },
    hasAlternative: () => false,
    randomBytes: (n) => crypto.randomBytes(n),
    now: () => 1_800_000_000_000,
    request: async (_key, req: Omit<RequestMessage, 'type' | 'id'>): Promise<ResultMessage> => {
      const output = req.input
      const fuel = 22
      const bytes = lie.bytes ?? req.input.byteLength + output.byteLength
      const total = charge(price, fuel, bytes)
      const body = {
        fn: `${publisher}/echo@1.0.0`,
        manifestSignature: 'cd'.repeat(64),
        moduleHash: '01'.repeat(32),
        inputHash: sha256(req.input),
        outputHash: sha256(output),
        fuel,
        executor: executorKey,
        tenant: 'ef'.repeat(32),
        time: 1_800_000_000_001,
        nonce: b4a.toString(req.nonce, 'hex'),
        deadline: lie.deadline ?? req.deadline,
        bytes,
        // an inflated total is consistent with an inflated price: the receipt itself adds up
        price: lie.total === 'inflated' ? { ...price, fuelPrice: price.fuelPrice * 1000 } : price,
        total: lie.total === 'inflated' ? charge({ ...price, fuelPrice: price.fuelPrice * 1000 }, fuel, bytes) : total
      }
      const [signed] = signReceiptBatch([prepareReceipt(body)], executor.secretKey)
      return { type: 'result', id: 1, output, receipt: (signed as { bytes: Uint8Array }).bytes, ledgerKey: new Uint8Array(32), ledgerIndex: 0 }
    }
  }
}

const input = b4a.from('sixteen bytes in')
const invoke = async (lie: Lie, maxCharge?: number): Promise<string> => {
  try {
    await runCall(transport(lie), `${publisher}/echo@^1`, input, { deadline: 5_000, ...(maxCharge === undefined ? {} : { maxCharge }) })
    return 'ok'
  } catch (err) {
    return `${(err as { code: string }).code}: ${(err as Error).message}`
  }
}

describe('the caller checks what a receipt says about the call', () => {
  it('accepts an honest priced receipt', async () => {
    expect(await invoke({})).toBe('ok')
    expect(await invoke({}, 1_000_000)).toBe('ok')
  })

  it('refuses a receipt that names a later deadline than the request (it would hide lateness)', async () => {
    expect(await invoke({ deadline: 1_800_000_060_000 })).toMatch(/^RECEIPT_INVALID: .*deadline/)
  })

  it('refuses a receipt that counts more bytes than moved (it would bill them)', async () => {
    expect(await invoke({ bytes: 4 * 1024 * 1024 })).toMatch(/^RECEIPT_INVALID: .*bytes moved/)
  })

  it('refuses a receipt whose total is over the tenant\'s cap, even when it adds up', async () => {
    const cap = 1_000
    expect(await invoke({ total: 'inflated' }, cap)).toMatch(/^RECEIPT_INVALID: .*over the cap/)
  })
})
