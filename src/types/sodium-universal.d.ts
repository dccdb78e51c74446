// Minimal types for sodium-universal 4 (sodium-native in Node, sodium-javascript in browsers), as shadw uses it.
declare module 'sodium-universal' {
  export function crypto_hash_sha256 (out: Uint8Array, input: Uint8Array): void
  export function crypto_box_keypair (publicKey: Uint8Array, secretKey: Uint8Array): void
  export function crypto_box_seal (out: Uint8Array, message: Uint8Array, publicKey: Uint8Array): void
  export function crypto_box_seal_open (out: Uint8Array, sealed: Uint8Array, publicKey: Uint8Array, secretKey: Uint8Array): boolean
  export function crypto_sign_ed25519_pk_to_curve25519 (out: Uint8Array, ed25519PublicKey: Uint8Array): void
  export function crypto_sign_ed25519_sk_to_curve25519 (out: Uint8Array, ed25519SecretKey: Uint8Array): void
  export function crypto_secretbox_easy (out: Uint8Array, message: Uint8Array, nonce: Uint8Array, key: Uint8Array): void
  export function crypto_secretbox_open_easy (out: Uint8Array, box: Uint8Array, nonce: Uint8Array, key: Uint8Array): boolean
  export function crypto_generichash (out: Uint8Array, input: Uint8Array, key?: Uint8Array): void
  export function randombytes_buf (out: Uint8Array): void
  const sodium: {
    crypto_sign_ed25519_pk_to_curve25519: typeof crypto_sign_ed25519_pk_to_curve25519
    crypto_sign_ed25519_sk_to_curve25519: typeof crypto_sign_ed25519_sk_to_curve25519
    crypto_secretbox_easy: typeof crypto_secretbox_easy
    crypto_secretbox_open_easy: typeof crypto_secretbox_open_easy
    crypto_generichash: typeof crypto_generichash
    randombytes_buf: typeof randombytes_buf
    crypto_secretbox_KEYBYTES: number
    crypto_secretbox_NONCEBYTES: number
    crypto_secretbox_MACBYTES: number
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
