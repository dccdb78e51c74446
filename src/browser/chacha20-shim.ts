/**
 * Stands in for `chacha20-universal` in browser bundles, keeping its interface: the ChaCha20
 * that sodium-javascript runs for secret-stream's XChaCha20-Poly1305, and so for every byte a
 * browser node receives or sends over a Hyperswarm connection.
 *
 * Why not the original: chacha20-universal builds each 64-byte block through a fresh typed
 * array and a byte-at-a-time XOR; in a profile of the node worker downloading a Hypercore it
 * was the largest item, above storage and Hypercore. `@noble/ciphers` (audited, maintained)
 * computes the same IETF ChaCha20 on 32-bit words, about ten times faster here. Same
 * keystream, same ciphertext: the Poly1305 MAC around it is sodium-javascript's, unchanged,
 * and still checked for every message before the plaintext is used.
 */
import { chacha20, chacha20orig } from '@noble/ciphers/chacha.js'

const BLOCK = 64

/** The stream cipher for a nonce, key and starting block counter, as chacha20-universal has it. */
export class Chacha20 {
  finalized = false
  private pos = 0
  private readonly nonce: Uint8Array
  private readonly key: Uint8Array
  private readonly counter: number
  private readonly cipher: typeof chacha20

  constructor (nonce: Uint8Array, key: Uint8Array, counter = 0) {
    if (key.byteLength !== 32) throw new Error('chacha20: key must be 32 bytes')
    if (nonce.byteLength !== 8 && nonce.byteLength !== 12) throw new Error('chacha20: nonce must be 8 or 12 bytes')
    if (!Number.isSafeInteger(counter) || counter < 0 || counter > 0xffffffff) throw new Error('chacha20: counter out of range')
    // copies: the caller may change its buffers between updates (sodium-javascript reuses state)
    this.nonce = nonce.slice()
    this.key = key.slice()
    this.counter = counter
    // an 8-byte nonce is the original construction (64-bit counter), a 12-byte one the IETF one
    this.cipher = nonce.byteLength === 8 ? chacha20orig : chacha20
  }

  /** XORs `input` with the next bytes of keystream into `output`; continues where the last call stopped. */
  update (output: Uint8Array, input: Uint8Array): void {
    if (this.finalized) throw new Error('cipher finalized.')
    if (output.byteLength < input.byteLength) throw new Error('output cannot be shorter than input.')
    const len = input.byteLength
    let done = 0
    const offset = this.pos % BLOCK
    if (offset !== 0 && len > 0) {
      // the rest of a block a previous call began: its keystream, from the block's start
      const ks = this.cipher(this.key, this.nonce, new Uint8Array(BLOCK), undefined, this.counter + (this.pos - offset) / BLOCK)
      done = Math.min(BLOCK - offset, len)
      for (let i = 0; i < done; i++) output[i] = (input[i] as number) ^ (ks[offset + i] as number)
    }
    if (done < len) {
      this.cipher(this.key, this.nonce, input.subarray(done), output.subarray(done, len), this.counter + (this.pos + done) / BLOCK)
    }
    this.pos += len
  }

  final (): void {
    this.finalized = true
    this.key.fill(0)
  }
}

// sodium-javascript calls `require('chacha20-universal')` as the constructor itself
export { Chacha20 as 'module.exports' }
export default Chacha20
