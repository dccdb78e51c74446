/**
 * Erasure benchmark, Chromium side: the same Reed-Solomon wrapper the pinner uses
 * (src/core/pinning/reed-solomon.ts, bundled for the page with esbuild) over the same
 * @subspace/reed-solomon-erasure.wasm bytes, timed inside headless Chromium on the same
 * shapes as the Node codec figures (64 KiB shards, M data shards lost on decode). The page
 * is about:blank: no node, no worker, so only the codec is timed.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/helpers/chromium-flags.ts'

const WRAPPER = fileURLToPath(new URL('../src/core/pinning/reed-solomon.ts', import.meta.url))
/** Bound on the browser starting and on one scheme's timed runs. */
const TIMEOUT_MS = 300_000

/** Chromium's version and, per scheme ("4+2"), logical MB/s through the bare codec in the page. */
export async function runBrowserCodecBench (o: { bytes: number, runs: number, shard: number, schemes: Array<{ k: number, m: number }> }): Promise<{ version: string, schemes: Record<string, { codecEncodeMBps: number, codecDecodeMBps: number }> }> {
  const bundle = await build({ entryPoints: [WRAPPER], bundle: true, write: false, format: 'iife', globalName: 'ShadwRs', platform: 'browser', target: 'es2022', logLevel: 'silent' })
  const code = bundle.outputFiles[0]!.text
  const wasmPath = createRequire(import.meta.url).resolve('@subspace/reed-solomon-erasure.wasm/dist/reed_solomon_erasure_bg.wasm')
  const wasmB64 = readFileSync(wasmPath).toString('base64')
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: TIMEOUT_MS })
  try {
    const page = await browser.newPage()
    page.setDefaultTimeout(TIMEOUT_MS)
    await page.addScriptTag({ content: code })
    const schemes: Record<string, { codecEncodeMBps: number, codecDecodeMBps: number }> = {}
    for (const s of o.schemes) {
      // source text, not a function: tsx's helpers do not exist in the page
      const r = await page.evaluate(`(() => {
        const bin = atob(${JSON.stringify(wasmB64)})
        const wasm = new Uint8Array(bin.length)
        for (let i = 0; i < bin.length; i++) wasm[i] = bin.charCodeAt(i)
        const rs = ShadwRs.ReedSolomon.fromBytes(wasm)
        const k = ${s.k}, m = ${s.m}, n = k + m, shard = ${o.shard}, runs = ${o.runs}
        const stripe = new Uint8Array(shard * n)
        crypto.getRandomValues(stripe.subarray(0, 65536))
        for (let i = 65536; i < shard * k; i += 65536) stripe.copyWithin(i, 0, 65536)
        const stripes = Math.floor(${o.bytes} / (shard * k))
        const present = Array.from({ length: n }, (_, i) => i >= m)
        const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
        const time = fn => { const t = performance.now(); fn(); return performance.now() - t }
        const enc = median(Array.from({ length: runs }, () => time(() => { for (let i = 0; i < stripes; i++) rs.encode(stripe, k, m) })))
        const want = stripe.slice(0, shard * k)
        let back = null
        const dec = median(Array.from({ length: runs }, () => time(() => { for (let i = 0; i < stripes; i++) { back = stripe.slice(); if (!rs.reconstruct(back, k, m, present)) throw new Error('reconstruct refused') } })))
        for (let i = 0; i < want.length; i++) if (back[i] !== want[i]) throw new Error('decoded bytes differ at ' + i)
        return { bytes: stripes * shard * k, enc, dec }
      })()`) as { bytes: number, enc: number, dec: number }
      const mbps = (ms: number): number => Math.round(r.bytes / 1e6 / (ms / 1000) * 10) / 10
      schemes[`${s.k}+${s.m}`] = { codecEncodeMBps: mbps(r.enc), codecDecodeMBps: mbps(r.dec) }
    }
    return { version: browser.version(), schemes }
  } finally {
    await browser.close().catch(() => {})
  }
}
