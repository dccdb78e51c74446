// Minimal types for sodium-universal 4 (sodium-native in Node, sodium-javascript in browsers), as shadw uses it.
declare module 'sodium-universal' {
  export function crypto_hash_sha256 (out: Uint8Array, input: Uint8Array): void
  const sodium: { crypto_hash_sha256: typeof crypto_hash_sha256 }
  export default sodium
}
