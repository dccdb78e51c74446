// The few libsodium calls shadw makes directly (sodium-native in Node, sodium-javascript in browsers).
declare module 'sodium-universal' {
  export const crypto_generichash_BYTES: number
  export const crypto_sign_PUBLICKEYBYTES: number
  export const crypto_sign_SECRETKEYBYTES: number
  export const crypto_sign_BYTES: number
  export function crypto_generichash (out: Uint8Array, input: Uint8Array, key?: Uint8Array): void
  export function crypto_sign_keypair (pk: Uint8Array, sk: Uint8Array): void
  export function crypto_sign_seed_keypair (pk: Uint8Array, sk: Uint8Array, seed: Uint8Array): void
  export function crypto_sign_detached (sig: Uint8Array, msg: Uint8Array, sk: Uint8Array): void
  export function crypto_sign_verify_detached (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean
  export function randombytes_buf (buf: Uint8Array): void
  const sodium: {
    crypto_generichash_BYTES: number, crypto_sign_PUBLICKEYBYTES: number, crypto_sign_SECRETKEYBYTES: number, crypto_sign_BYTES: number
    crypto_generichash: typeof crypto_generichash, crypto_sign_keypair: typeof crypto_sign_keypair
    crypto_sign_seed_keypair: typeof crypto_sign_seed_keypair, crypto_sign_detached: typeof crypto_sign_detached
    crypto_sign_verify_detached: typeof crypto_sign_verify_detached, randombytes_buf: typeof randombytes_buf
  }
  export default sodium
}
