import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { decodeReceipt, type SignedReceipt } from '../../../src/core/ledger/index.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { sha256Hex } from '../../../src/core/sandbox/index.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'
import { publisher } from '../../helpers/invoke.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))

function shadw (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

describe('shadw invoke and shadw verify-receipt', () => {
  it('invokes a function through a super node\'s executor service from the CLI; the receipt verifies offline and a tampered one does not', async () => {
    const superNode = await startSuperNode({ workers: 1 })
    expect(superNode.executor?.service.slots).toBe(2)
    const pub = await publisher({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.2.0' })
    const dir = await tempDir()
    const inputFile = join(dir, 'input.txt')
    await writeFile(inputFile, 'from the command line')

    const bootstrap = superNode.info.bootstrap.join(',')
    const plain = await shadw('invoke', ref.replace('@1.2.0', '@^1'), '--input', inputFile, '--bootstrap', bootstrap, '--deadline', '30000')
    expect(plain.stderr).toMatch(/\naccepted by 1 executor\(s\) after 1 attempt\(s\)\n {2}receipt [0-9a-f]{16}… fuel \d+ output [0-9a-f]{16}… ledger [0-9a-f]{16}…#0\n$/)
    expect(plain.stdout).toBe('from the command line')
    expect(plain.code).toBe(0)

    const json = await shadw('invoke', ref, '--input', inputFile, '--bootstrap', bootstrap, '--deadline', '30000', '--json')
    expect(json.code).toBe(0)
    const doc = JSON.parse(json.stdout) as { output: string, outputBase64: string, receipts: SignedReceipt[], ledgers: Array<{ key: string, index: number }>, attempts: number }
    expect(doc.output).toBe('from the command line')
    expect(doc.receipts).toHaveLength(1)
    const receipt = doc.receipts[0] as SignedReceipt
    expect(receipt.executor).toBe(superNode.info.publicKey)
    expect(receipt.inputHash).toBe(await sha256Hex(b4a.from('from the command line')))
    expect(doc.ledgers).toEqual([{ key: superNode.executor?.ledgerKey, index: 1 }])
    // the super node's ledger holds both receipts
    expect(decodeReceipt(await superNode.node.get(superNode.executor?.ledgerKey as string, 1) as Uint8Array)).toEqual(receipt)

    const receiptFile = join(dir, 'invoke.json')
    await writeFile(receiptFile, json.stdout)
    const outputFile = join(dir, 'output.bin')
    await writeFile(outputFile, b4a.from(doc.outputBase64, 'base64'))
    const ok = await shadw('verify-receipt', receiptFile, '--input', inputFile, '--output', outputFile)
    expect(ok.stderr).toBe('')
    expect(ok.stdout.split('\n').slice(0, 3)).toEqual(['receipt valid: executor signature verifies', `  function:  ${ref}`, `  executor:  ${superNode.info.publicKey}`])
    expect(ok.code).toBe(0)
    // the price and total the receipt carries, and the caller's deadline
    expect(ok.stdout).toContain(`  price:     ${receipt.price.fuelPrice} µcredits per million fuel, ${receipt.price.bytePrice} per MiB (utilisation ${receipt.price.utilisationPpm} ppm)\n`)
    expect(ok.stdout).toContain(`  total:     ${receipt.total} µcredits for ${receipt.bytes} bytes moved (checked against the price)\n`)
    expect(ok.stdout).toContain(`  deadline:  ${new Date(receipt.deadline).toISOString()}\n`)
    expect(receipt.total).toBeGreaterThan(0)

    const single = join(dir, 'receipt.json')
    await writeFile(single, JSON.stringify({ ...receipt, fuel: receipt.fuel + 1 }))
    const forged = await shadw('verify-receipt', single)
    expect(forged.stderr).toBe('shadw: RECEIPT_INVALID: executor signature does not verify\n')
    expect(forged.code).toBe(1)
    // a total its own price does not explain is refused before any signature is checked
    await writeFile(single, JSON.stringify({ ...receipt, total: receipt.total + 1 }))
    const raised = await shadw('verify-receipt', single)
    expect(raised.stderr).toBe(`shadw: RECEIPT_INVALID: total ${receipt.total + 1} is not what the receipt's price gives for its fuel and bytes\n`)
    expect(raised.code).toBe(1)
    await writeFile(inputFile, 'another input')
    const wrongInput = await shadw('verify-receipt', receiptFile, '--input', inputFile)
    expect(wrongInput.stderr).toBe(`shadw: RECEIPT_INVALID: receipt of ${receipt.executor} names another input\n`)
    expect(JSON.parse(await readFile(receiptFile, 'utf8'))).toEqual(doc)
  })
})
