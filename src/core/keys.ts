import b4a from 'b4a'
import { ShadwError } from './errors.ts'
import { describeValue } from './describe.ts'
import { isHexKey, KEY_BYTES } from './hex.ts'

export { KEY_BYTES }

/** Parses a 64-character hex key from a page, a peer or the command line. */
export function parseKey (input: unknown): Uint8Array {
  if (input instanceof Uint8Array) {
    if (input.byteLength !== KEY_BYTES) throw ShadwError.INVALID_LOG_KEY(`<${input.byteLength} bytes>`)
    return input
  }
  if (typeof input !== 'string') throw ShadwError.INVALID_LOG_KEY(describeValue(input))
  const hex = input.trim().toLowerCase()
  if (!isHexKey(hex)) throw ShadwError.INVALID_LOG_KEY(input)
  return b4a.from(hex, 'hex')
}

/** Hex form of a key, as shown in status and URLs. */
export function keyToHex (key: Uint8Array): string {
  return b4a.toString(key, 'hex')
}
