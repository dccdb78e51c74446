/**
 * The Reed-Solomon codec in a browser worker: the same wasm file Node reads from
 * node_modules, fetched once from where the build serves it and instantiated by the core's
 * wrapper (synchronous compile is allowed in workers, not on a page's main thread).
 */
import wasmUrl from '@subspace/reed-solomon-erasure.wasm/dist/reed_solomon_erasure_bg.wasm?url'
import { ReedSolomon } from '../core/pinning/index.ts'

let codec: Promise<ReedSolomon> | null = null

/** The worker's codec, fetched on first use; a failed fetch is tried again on the next call. */
export async function reedSolomonBrowser (): Promise<ReedSolomon> {
  codec ??= (async () => {
    const res = await fetch(wasmUrl)
    if (!res.ok) throw new Error(`Reed-Solomon wasm: HTTP ${res.status}`)
    return ReedSolomon.fromBytes(new Uint8Array(await res.arrayBuffer()))
  })()
  codec.catch(() => { codec = null })
  return await codec
}
