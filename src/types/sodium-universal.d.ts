// Minimal types for sodium-universal 4 (sodium-native in Node, sodium-javascript in browsers), as shadw uses it.
declare module 'sodium-universal' {
  export function crypto_hash_sha256 (out: Uint8Array, input: Uint8Array): void
  export function crypto_box_keypair (publicKey: Uint8Array, secretKey: Uint8Array): void
  export function crypto_box_seal (out: Uint8Array, message: Uint8Array, publicKey: Uint8Array): void
  export function crypto_box_seal_open (out: Uint8Array, sealed: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): boolean
  const sodium: {
    crypto_hash_sha256: typeof crypto_hash_sha256
    crypto_box_keypair: typeof crypto_box_keypair
    crypto_box_seal: typeof crypto_box_seal
    crypto_box_seal_open: typeof crypto_box_seal_open
    crypto_box_PUBLICKEYBYTES: number
    crypto_box_SECRETKEYBYTES: number
    crypto_box_SEALBYTES: number
  }
  export default sodium
}
