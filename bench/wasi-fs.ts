/**
 * WASI filesystem benchmark: one file-reading kernel (read a file in 64 KiB chunks, FNV-1a
 * over every 64th byte) run natively in Node (`fs.readSync` on the host file) and in the
 * sandbox (the C build of the same loop, fs-read-kernel.c, over the same bytes mounted as a
 * preopen), printed as a ratio measured in the same run and written to
 * bench/results/wasi-fs.json. Both sides must print the same checksum.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_LIMITS, prepareModule, runModule, sha256Hex, type Preopen } from '../src/core/sandbox/index.ts'
import { cWasm } from '../test/fixtures/wasm/fixtures.ts'

/** File size: large enough that reading dominates, small enough to mount in memory. */
const FILE_BYTES = 32 * 1024 * 1024
/** Passes over the file per timed run. */
const ROUNDS = 4
/** Timed runs per side; the median absorbs scheduler noise. */
const RUNS = 9
const RESULTS = new URL('./results/wasi-fs.json', import.meta.url)

export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/** The kernel in Node: the same loop and checksum as fs-read-kernel.c (bench/mounts.ts runs it too, without clang). */
export function nativeKernel (path: string, rounds: number): string {
  const buf = new Uint8Array(65536)
  let h = 2166136261
  let total = 0
  for (let r = 0; r < rounds; r++) {
    const fd = openSync(path, 'r')
    try {
      for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) {
        for (let i = 0; i < n; i += 64) h = Math.imul(h ^ (buf[i] as number), 16777619) >>> 0
        total += n
      }
    } finally {
      closeSync(fd)
    }
  }
  return `${total} ${h}\n`
}

export async function runWasiFsBench (): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shadw-bench-wasi-fs-'))
  try {
    const data = new Uint8Array(FILE_BYTES)
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761 >>> 24) & 0xff
    const path = join(dir, 'blob')
    writeFileSync(path, data)
    const bytes = cWasm('fs-read-kernel')
    const prepared = await prepareModule(bytes, await sha256Hex(bytes), 'wasi', 256)
    const preopens: Preopen[] = [{ guest: '/data', tree: { kind: 'dir', entries: { blob: { kind: 'file', data } } } }]
    const sandboxed = (): { out: string, fuel: number } => {
      const r = runModule(prepared, { abi: 'wasi', input: new Uint8Array(0), args: ['/data/blob', String(ROUNDS)], env: [], seed: 0, limits: { ...DEFAULT_LIMITS, fuel: 1e12, deadlineMs: 600_000 }, preopens })
      return { out: new TextDecoder().decode(r.output), fuel: r.fuelUsed }
    }
    const expected = nativeKernel(path, ROUNDS)
    const warm = sandboxed()
    if (warm.out !== expected) throw new Error(`checksums differ: native ${expected.trim()}, sandbox ${warm.out.trim()}`)
    const native: number[] = []
    const sandbox: number[] = []
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now()
      nativeKernel(path, ROUNDS)
      native.push(performance.now() - t)
      t = performance.now()
      sandboxed()
      sandbox.push(performance.now() - t)
    }
    const nativeMs = median(native)
    const sandboxMs = median(sandbox)
    const mb = FILE_BYTES * ROUNDS / 1024 / 1024
    const result = {
      fileBytes: FILE_BYTES,
      rounds: ROUNDS,
      runs: RUNS,
      nativeMs: Math.round(nativeMs * 100) / 100,
      sandboxMs: Math.round(sandboxMs * 100) / 100,
      ratio: Math.round(sandboxMs / nativeMs * 1000) / 1000,
      nativeMiBps: Math.round(mb / nativeMs * 1000),
      sandboxMiBps: Math.round(mb / sandboxMs * 1000),
      fuelUsed: warm.fuel,
      checksum: expected.trim()
    }
    console.log(`file-reading kernel, ${mb} MiB per run (median of ${RUNS})`)
    console.log(`  native (Node fs)            ${result.nativeMs.toFixed(2).padStart(9)} ms  ${result.nativeMiBps} MiB/s`)
    console.log(`  sandbox (C, WASI preopen)   ${result.sandboxMs.toFixed(2).padStart(9)} ms  ${result.sandboxMiBps} MiB/s  fuel ${result.fuelUsed}`)
    console.log(`  ratio sandbox / native      ${result.ratio}×`)
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
    writeFileSync(RESULTS, JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2) + '\n')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
