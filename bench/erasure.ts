/**
 * Erasure benchmark: Reed-Solomon encode and decode MB/s in Node for 4+2 and 10+5 (logical
 * bytes per second), through the same `encodeErasure`/`decodeErasure` the pinner and readers
 * use (hashing included) and through the bare codec, with M data shards lost on decode (the
 * worst case: every lost shard must be computed). Writes bench/results/erasure.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import crypto from 'hypercore-crypto'
import { decodeErasure, encodeErasure, type ErasureScheme } from '../src/core/pinning/index.ts'
import { reedSolomon } from '../src/super-node/reed-solomon-node.ts'

/** Logical bytes per timed run. */
const BYTES = 32 * 1024 * 1024
/** Timed runs per figure; the median absorbs scheduler noise. */
const RUNS = 5
const RESULTS = new URL('./results/erasure.json', import.meta.url)

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

function mbps (bytes: number, ms: number): number {
  return Math.round(bytes / 1e6 / (ms / 1000) * 10) / 10
}

function time (fn: () => void): number {
  const t = performance.now()
  fn()
  return performance.now() - t
}

export async function runErasureBench (): Promise<void> {
  const rs = reedSolomon()
  const data = crypto.randomBytes(BYTES)
  const out: Record<string, unknown> = { bytes: BYTES, runs: RUNS, node: process.version }
  for (const scheme of [{ k: 4, m: 2 }, { k: 10, m: 5 }] as ErasureScheme[]) {
    const name = `${scheme.k}+${scheme.m}`
    const n = scheme.k + scheme.m
    // bare codec: one 64 KiB shard per data shard, as the pinner codes a stripe
    const shard = 64 * 1024
    const stripe = new Uint8Array(shard * n)
    stripe.set(data.subarray(0, shard * scheme.k))
    const stripes = Math.floor(BYTES / (shard * scheme.k))
    const present = Array.from({ length: n }, (_, i) => i >= scheme.m)
    const codecEnc = median(Array.from({ length: RUNS }, () => time(() => { for (let i = 0; i < stripes; i++) rs.encode(stripe, scheme.k, scheme.m) })))
    const codecDec = median(Array.from({ length: RUNS }, () => time(() => { for (let i = 0; i < stripes; i++) rs.reconstruct(stripe.slice(), scheme.k, scheme.m, present) })))
    // the full path: stripes, Merkle commitments, hash checks on read
    let enc = encodeErasure(rs, data, scheme)
    const fullEnc = median(Array.from({ length: RUNS }, () => time(() => { enc = encodeErasure(rs, data, scheme) })))
    let back: Uint8Array = new Uint8Array(0)
    const fullDec = median(Array.from({ length: RUNS }, () => time(() => {
      back = decodeErasure(rs, enc.layout, enc.commitments, (s, i) => i < scheme.m ? null : enc.stripes[s]![i]!)
    })))
    if (Buffer.compare(back, data) !== 0) throw new Error(`${name}: decoded bytes differ`)
    const bytes = stripes * shard * scheme.k
    out[name] = {
      codecEncodeMBps: mbps(bytes, codecEnc),
      codecDecodeMBps: mbps(bytes, codecDec),
      encodeMBps: mbps(BYTES, fullEnc),
      decodeMBps: mbps(BYTES, fullDec),
      storedOverLogical: enc.stripes.reduce((s, st) => s + st.reduce((t, sh) => t + sh.length, 0), 0) / BYTES
    }
    console.log(name, JSON.stringify(out[name]))
  }
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n')
}
