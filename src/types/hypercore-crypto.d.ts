// Minimal types for hypercore-crypto 3.
declare module 'hypercore-crypto' {
  export interface KeyPair { publicKey: Uint8Array, secretKey: Uint8Array }
  export function keyPair (seed?: Uint8Array): KeyPair
  export function sign (message: Uint8Array, secretKey: Uint8Array): Uint8Array
  export function verify (message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean
  export function hash (data: Uint8Array | Uint8Array[]): Uint8Array
  export function discoveryKey (key: Uint8Array): Uint8Array
  export function randomBytes (n: number): Uint8Array
  /** A Merkle tree node as Hypercore hashes it: flat-tree index, bytes under it, hash. */
  export interface TreeNodeHash { index: number, size: number, hash: Uint8Array }
  /** Hash of a leaf (a block). */
  export function data (block: Uint8Array): Uint8Array
  /** Hash of the parent of two sibling nodes. */
  export function parent (a: TreeNodeHash, b: TreeNodeHash): Uint8Array
  /** Hash of a tree's roots: its tree hash. */
  export function tree (roots: TreeNodeHash[]): Uint8Array
  const crypto: {
    keyPair: typeof keyPair,
    sign: typeof sign,
    verify: typeof verify,
    hash: typeof hash,
    discoveryKey: typeof discoveryKey,
    randomBytes: typeof randomBytes,
    data: typeof data,
    parent: typeof parent,
    tree: typeof tree
  }
  export default crypto
}
