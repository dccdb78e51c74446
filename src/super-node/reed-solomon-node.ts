/**
 * The Reed-Solomon codec in Node: the wasm file of `@subspace/reed-solomon-erasure.wasm`,
 * read once from node_modules (a browser fetches the same file and calls
 * `ReedSolomon.fromBytes` itself).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { ReedSolomon } from '../core/pinning/index.ts'

let codec: ReedSolomon | null = null

/** The process's codec, instantiated on first use. */
export function reedSolomon (): ReedSolomon {
  if (codec === null) {
    const path = createRequire(import.meta.url).resolve('@subspace/reed-solomon-erasure.wasm/dist/reed_solomon_erasure_bg.wasm')
    codec = ReedSolomon.fromBytes(readFileSync(path))
  }
  return codec
}
