import b4a from 'b4a'
import { ShadwError } from './errors.ts'
import { describeValue } from './describe.ts'

/** Public keys and discovery keys are 32 bytes (ed25519 public key / BLAKE2b-256). */
export const KEY_BYTES = 32

const HEX_KEY = /^[0-9a-f]{64}$/

/** Parses a 64-character hex key from a page, a peer or the command line. */
export function parseKey (input: unknown): Uint8Array {
  if (input instanceof Uint8Array) {
    if (input.byteLength !== KEY_BYTES) throw ShadwError.INVALID_LOG_KEY(`<${input.byteLength} bytes>`)
    return input
  }
  if (typeof input !== 'string') throw ShadwError.INVALID_LOG_KEY(describeValue(input))
  const hex = input.trim().toLowerCase()
  if (!HEX_KEY.test(hex)) throw ShadwError.INVALID_LOG_KEY(input)
  return b4a.from(hex, 'hex')
}

/** Hex form of a key, as shown in status and URLs. */
export function keyToHex (key: Uint8Array): string {
  return b4a.toString(key, 'hex')
}
