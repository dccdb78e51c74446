import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import crypto from 'hypercore-crypto'
import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { verifyReceiptCommand } from '../../../src/cli/verify-receipt.ts'
import { GIB, MONTH_MS, signStorageReceipt } from '../../../src/core/ledger/index.ts'

describe('shadw verify-receipt on storage receipts', () => {
  it('checks a holder\'s signature and total, and refuses a total its price does not explain', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shadw-vr-'))
    const holder = crypto.keyPair()
    const r = signStorageReceipt({ kind: 'hold', drive: 'ab'.repeat(32), pinner: b4a.toString(crypto.keyPair().publicKey, 'hex'), bytes: GIB, from: 0, to: MONTH_MS, price: 2_000 }, holder)
    const good = join(dir, 'good.json')
    await writeFile(good, JSON.stringify({ receipts: [r] }))
    let text = ''
    expect(await verifyReceiptCommand([good], s => { text += s })).toBe(0)
    expect(text).toContain('storage receipt valid (hold)')
    expect(text).toContain('total:     2000 µcredits')
    const bad = join(dir, 'bad.json')
    await writeFile(bad, JSON.stringify({ ...r, total: 2_001 }))
    await expect(verifyReceiptCommand([bad], () => {})).rejects.toMatchObject({ code: 'STORAGE_RECEIPT_INVALID' })
    await writeFile(bad, JSON.stringify({ ...r, signature: r.signature.replace(/^./, c => c === '0' ? '1' : '0') }))
    await expect(verifyReceiptCommand([bad], () => {})).rejects.toMatchObject({ code: 'STORAGE_RECEIPT_INVALID' })
  })
})
