/**
 * Reed-Solomon over GF(2^8): Rust's reed-solomon-erasure compiled to WebAssembly (the
 * `@subspace/reed-solomon-erasure.wasm` package's .wasm). The package's own wrapper imports
 * `fs` at load, which the isomorphic core cannot; the wasm needs no imports, so this thin
 * wrapper instantiates it from bytes the host supplies (Node reads the file, a browser
 * fetches it) and calls its two exports the same way the package does.
 */
import { ShadwError } from '../errors.ts'

/** The core is checked without DOM or Node types: the host's WebAssembly, typed by shape (as in sandbox/host.ts). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (m: object) => { readonly exports: Record<string, unknown> }
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

interface RsExports {
  memory: { readonly buffer: ArrayBuffer }
  __wbindgen_malloc: (n: number) => number
  __wbindgen_free: (p: number, n: number) => void
  encode: (p: number, n: number, k: number, m: number) => number
  reconstruct: (p: number, n: number, k: number, m: number, avail: number, availN: number) => number
}

/** The library's result codes (0 is success). */
const RESULT_OK = 0

/** A Reed-Solomon codec over one wasm instance; not safe to share across threads (none of ours does). */
export class ReedSolomon {
  readonly #x: RsExports

  private constructor (x: RsExports) {
    this.#x = x
  }

  /** Instantiates the codec from the .wasm bytes. @throws ShadwError `ERASURE_INVALID` for bytes that are not that module */
  static fromBytes (bytes: Uint8Array): ReedSolomon {
    const instance = new wasm.Instance(new wasm.Module(bytes))
    const x = instance.exports as unknown as RsExports
    if (typeof x.encode !== 'function' || typeof x.reconstruct !== 'function' || typeof x.__wbindgen_malloc !== 'function') {
      throw ShadwError.ERASURE_INVALID('not the reed-solomon-erasure module')
    }
    return new ReedSolomon(x)
  }

  /** The wasm instance's memory, bytes: flat over many calls when nothing leaks. */
  get memoryBytes (): number {
    return this.#x.memory.buffer.byteLength
  }

  #mem (): Uint8Array {
    return new Uint8Array(this.#x.memory.buffer)
  }

  /**
   * Fills the last `m` shards of `shards` (k+m equal shards, contiguous) with parity, in place.
   * @throws ShadwError `ERASURE_INVALID` when the library refuses the shape
   */
  encode (shards: Uint8Array, k: number, m: number): void {
    const x = this.#x
    const p = x.__wbindgen_malloc(shards.length)
    try {
      this.#mem().set(shards, p)
      const r = x.encode(p, shards.length, k, m)
      if (r !== RESULT_OK) throw ShadwError.ERASURE_INVALID(`reed-solomon encode refused (code ${r})`, { k, m })
      const size = shards.length / (k + m)
      shards.set(this.#mem().subarray(p + size * k, p + shards.length), size * k)
    } finally {
      x.__wbindgen_free(p, shards.length)
    }
  }

  /**
   * Rebuilds the first `k` (data) shards in place from any `k` shards marked present.
   * Returns false when too few are present or the library refuses.
   */
  reconstruct (shards: Uint8Array, k: number, m: number, present: boolean[]): boolean {
    const x = this.#x
    const p = x.__wbindgen_malloc(shards.length)
    const a = x.__wbindgen_malloc(present.length)
    try {
      const mem = this.#mem()
      mem.set(shards, p)
      mem.set(present.map(v => v ? 1 : 0), a)
      const r = x.reconstruct(p, shards.length, k, m, a, present.length)
      if (r !== RESULT_OK) return false
      const size = shards.length / (k + m)
      shards.set(this.#mem().subarray(p, p + size * k))
      return true
    } finally {
      // the flags are taken by value on the Rust side (wasm-bindgen frees them there): the
      // package's wrapper frees them again, and that double free corrupts the allocator so
      // every later reconstruct with shard 0 present fails; only the shards are ours to free
      x.__wbindgen_free(p, shards.length)
    }
  }
}
