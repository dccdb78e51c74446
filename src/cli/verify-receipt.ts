/**
 * `shadw verify-receipt FILE [--input FILE] [--output FILE] [--json]`: checks receipts
 * offline: each executor signature, that each total is what its price gives, and, when given, that the input and output files are
 * the bytes the receipt names. FILE is one receipt (JSON), or the `--json` output of
 * `shadw invoke` (every receipt in it is checked). A holder's storage receipt (`kind` pin,
 * hold or serve) is checked too: the holder's signature and the total against its price.
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { ShadwError } from '../core/errors.ts'
import { parseReceiptJson, parseStorageReceiptJson, verifyReceipt, verifyStorageReceipt, type SignedReceipt, type SignedStorageReceipt } from '../core/ledger/index.ts'
import { sha256Hex } from '../core/sandbox/index.ts'

/** Usage line shown in `shadw help`. */
export const VERIFY_RECEIPT_USAGE = 'shadw verify-receipt <FILE.json> [--input FILE] [--output FILE] [--json]'

/** Receipt files are small; an invoke document with 16 receipts is < 16 KiB plus the output. */
const MAX_RECEIPT_FILE_BYTES = 16 * 1024 * 1024

/** Runs `shadw verify-receipt`; resolves to the exit code (throws RECEIPT_INVALID on a bad one). */
export async function verifyReceiptCommand (argv: string[], out: (s: string) => void = s => { process.stdout.write(s) }): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { input: { type: 'string' }, output: { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true
  })
  const [file, ...extra] = positionals
  if (file === undefined || extra.length > 0) throw ShadwError.INVALID_ARGUMENT(`usage: ${VERIFY_RECEIPT_USAGE}`)
  const doc = parse(await read(file, '')) as Record<string, unknown>
  const list = Array.isArray(doc['receipts']) ? doc['receipts'] as unknown[] : [doc]
  if (list.length > 0 && list.every(r => typeof r === 'object' && r !== null && 'kind' in r && 'holder' in r)) {
    if (values.input !== undefined || values.output !== undefined) throw ShadwError.INVALID_ARGUMENT('--input and --output apply to compute receipts, not storage receipts')
    const storage = list.map(r => verifyStorageReceipt(parseStorageReceiptJson(r)))
    out(values.json ? JSON.stringify({ valid: true, receipts: storage }) + '\n' : storage.map(renderStorage).join(''))
    return 0
  }
  const receipts = (Array.isArray(doc['receipts']) ? doc['receipts'] : [doc]).map(r => verifyReceipt(parseReceiptJson(r)))
  if (receipts.length === 0) throw ShadwError.RECEIPT_INVALID('the file holds no receipt')
  const inputHash = values.input === undefined ? null : await sha256Hex(await read(values.input, '--input '))
  const outputHash = values.output === undefined ? null : await sha256Hex(await read(values.output, '--output '))
  for (const r of receipts) {
    if (inputHash !== null && r.inputHash !== inputHash) throw ShadwError.RECEIPT_INVALID(`receipt of ${r.executor} names another input`, { expected: inputHash, inReceipt: r.inputHash })
    if (outputHash !== null && r.outputHash !== outputHash) throw ShadwError.RECEIPT_INVALID(`receipt of ${r.executor} names another output`, { expected: outputHash, inReceipt: r.outputHash })
  }
  out(values.json ? JSON.stringify({ valid: true, receipts }) + '\n' : receipts.map(r => render(r, inputHash !== null, outputHash !== null)).join(''))
  return 0
}

async function read (path: string, flag: string): Promise<Uint8Array> {
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => { throw ShadwError.INVALID_ARGUMENT(`cannot read ${flag}${path}: ${err.code ?? err.message}`) })
  if (bytes.byteLength > MAX_RECEIPT_FILE_BYTES) throw ShadwError.INVALID_ARGUMENT(`${flag}${path} is larger than ${MAX_RECEIPT_FILE_BYTES} bytes`)
  return new Uint8Array(bytes)
}

function parse (bytes: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw ShadwError.RECEIPT_INVALID('receipt file is not JSON')
  }
}

function render (r: SignedReceipt, input: boolean, output: boolean): string {
  return [
    'receipt valid: executor signature verifies',
    `  function:  ${r.fn}`,
    `  executor:  ${r.executor}`,
    `  tenant:    ${r.tenant}`,
    `  fuel:      ${r.fuel}`,
    `  price:     ${r.price.fuelPrice} µcredits per million fuel, ${r.price.bytePrice} per MiB (utilisation ${r.price.utilisationPpm} ppm)`,
    `  total:     ${r.total} µcredits for ${r.bytes} bytes moved (checked against the price)`,
    `  input:     ${r.inputHash}${input ? ' (matches --input)' : ''}`,
    `  output:    ${r.outputHash}${output ? ' (matches --output)' : ''}`,
    `  time:      ${new Date(r.time).toISOString()}`,
    `  deadline:  ${new Date(r.deadline).toISOString()}${r.time > r.deadline ? ' (late: signed after it)' : ''}`,
    `  nonce:     ${r.nonce}`,
    ''
  ].join('\n')
}

function renderStorage (r: SignedStorageReceipt): string {
  const unit = r.kind === 'serve' ? 'per MiB served' : 'per GiB-month'
  return [
    `storage receipt valid (${r.kind}): holder signature verifies`,
    `  drive:     ${r.drive}`,
    `  holder:    ${r.holder}`,
    `  pinner:    ${r.pinner}`,
    `  bytes:     ${r.bytes}`,
    `  period:    ${new Date(r.from).toISOString()} to ${new Date(r.to).toISOString()}`,
    `  price:     ${r.price} µcredits ${unit}`,
    `  total:     ${r.total} µcredits (checked against the price)`,
    ''
  ].join('\n')
}
