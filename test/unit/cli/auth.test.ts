import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { utils } from 'ethers'
import { describe, expect, it } from 'vitest'
import { parseDuration, parseExactFunction } from '../../../src/cli/auth.ts'
import { parseSolanaKey, solanaSigner } from '../../../src/cli/auth-keys.ts'
import { verifySolanaSignature } from '../../../src/core/access/index.ts'
import type { ShadwError } from '../../../src/core/errors.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { return (err as ShadwError).code }
  return 'PASSED'
}

describe('shadw auth sign arguments', () => {
  it('takes an exact function version and a bounded lifetime', () => {
    const publisher = 'ab'.repeat(32)
    expect(parseExactFunction(`${publisher}/hello@1.0.0`)).toEqual({ publisher, name: 'hello', version: '1.0.0' })
    expect(code(() => parseExactFunction(`${publisher}/hello@^1`))).toBe('INVALID_FUNCTION_REF')
    expect(code(() => parseExactFunction(`${publisher}/hello`))).toBe('INVALID_FUNCTION_REF')
    expect(parseDuration('90s')).toBe(90_000)
    expect(parseDuration('15m')).toBe(900_000)
    for (const bad of ['16m', '0s', '5h', '-1m', '']) expect(code(() => parseDuration(bad)), bad).toBe('INVALID_ARGUMENT')
  })

  it('reads a Solana key as 0x-hex or a solana-keygen array, signing for its base58 address, and refuses anything else', async () => {
    const { publicKey, secretKey } = crypto.keyPair()
    const hex = '0x' + b4a.toString(secretKey, 'hex')
    expect(b4a.equals(parseSolanaKey(hex, 'k'), secretKey)).toBe(true)
    expect(b4a.equals(parseSolanaKey(JSON.stringify([...secretKey]), 'k'), secretKey)).toBe(true)
    const signer = solanaSigner(parseSolanaKey(hex, 'k'))
    expect(signer.address).toBe(utils.base58.encode(publicKey))
    const sig = await signer.signMessage(b4a.from('hello'))
    expect(verifySolanaSignature('hello', b4a.toString(sig, 'hex'), signer.address)).toBe(true)
    const other = crypto.keyPair().publicKey
    const bad = [
      hex.slice(0, 66), // a 32-byte (Ethereum-sized) key
      hex.slice(2), // no 0x
      hex + '00',
      '0x' + b4a.toString(b4a.concat([secretKey.subarray(0, 32), other]), 'hex'), // public half not the seed's
      JSON.stringify([...secretKey].map(b => b + 256)),
      JSON.stringify([...secretKey].slice(1)),
      '[1,2,',
      ''
    ]
    for (const b of bad) expect(code(() => parseSolanaKey(b, 'k')), b).toBe('INVALID_ARGUMENT')
  })
})
