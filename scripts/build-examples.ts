/**
 * Builds every example of examples/ from its source, with toolchains from Debian packages or
 * npm (apt: clang lld wasi-libc rustc libstd-rust-dev-wasm32; npm: wabt):
 *
 *   npm run examples            rebuild the committed .wasm files
 *   npm run examples -- --check rebuild into a temporary directory and compare: each module
 *                               must answer its documented example input with its documented
 *                               output; byte-identical builds are reported as such
 *
 * By source file: `*.wat` with wabt; `*.c` with clang (freestanding for the raw ABI,
 * wasi-libc for WASI; Debian ships no wasm32 compiler-rt, so libc only); `*.rs` with rustc
 * (`wasm32-unknown-unknown` cdylib for raw, `wasm32-wasi` binary for WASI). Rust prefers
 * Debian's /usr/bin/rustc when its wasm32 standard library is installed, as CI has it, so the
 * committed builds are the ones CI reproduces; RUSTC overrides.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import wabtInit from 'wabt'
import { readExample, type Example } from '../src/cli/examples-publish.ts'
import { DEFAULT_LIMITS, prepareModule, runModule, sha256Hex } from '../src/core/sandbox/index.ts'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../examples', import.meta.url))
/** wasi-libc's sysroot (Debian installs it under /usr). */
const WASI_SYSROOT = process.env['WASI_SYSROOT'] ?? '/usr'

/** The toolchain a source file needs, and whether this machine has it. */
export function toolchainFor (source: string): { name: string, present: boolean } {
  if (source.endsWith('.wat')) return { name: 'wabt (npm)', present: true }
  if (source.endsWith('.c')) return { name: 'clang + lld + wasi-libc', present: onPath('clang') && existsSync(join(WASI_SYSROOT, 'lib/wasm32-wasi/libc.a')) }
  if (source.endsWith('.rs')) return { name: 'rustc + wasm32 std', present: rustc() !== null }
  return { name: 'unknown', present: false }
}

function onPath (bin: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some(d => d !== '' && existsSync(join(d, bin)))
}

/** Debian's rustc with its wasm32 std first: the committed builds come from it. */
function rustc (): string | null {
  const env = process.env['RUSTC']
  if (env !== undefined && env !== '') return env
  if (existsSync('/usr/bin/rustc') && existsSync('/usr/lib/rustlib/wasm32-wasi')) return '/usr/bin/rustc'
  return onPath('rustc') ? 'rustc' : null
}

/** The one source file of an example directory. */
export async function sourceOf (dir: string): Promise<string> {
  const sources = (await readdir(dir)).filter(f => /\.(wat|c|rs)$/.test(f))
  if (sources.length !== 1) throw new Error(`${dir}: expected one source file (.wat, .c or .rs), found ${sources.join(', ') || 'none'}`)
  return join(dir, sources[0] as string)
}

/** Compiles `source` (of an example with `abi`) to `out`. */
export async function build (source: string, abi: 'raw' | 'wasi', out: string): Promise<void> {
  if (source.endsWith('.wat')) {
    const wabt = await wabtInit()
    const mod = wabt.parseWat(source, await readFile(source, 'utf8'))
    try {
      await writeFile(out, new Uint8Array(mod.toBinary({}).buffer))
    } finally {
      mod.destroy()
    }
    return
  }
  if (source.endsWith('.c')) {
    // raw: freestanding, exports named in the source; bulk memory lowers the memcpy/memset
    // the compiler emits, since there is no libc to provide them
    const args = abi === 'raw'
      ? ['--target=wasm32', '-O2', '-mbulk-memory', '-s', '-nostdlib', '-Wl,--no-entry', '-o', out, source]
      : ['--target=wasm32-wasi', `--sysroot=${WASI_SYSROOT}`, '-O2', '-s', '-nodefaultlibs', '-o', out, source, '-lc']
    await run('clang', args)
    return
  }
  const bin = rustc()
  if (bin === null) throw new Error('rustc not found (apt install rustc libstd-rust-dev-wasm32)')
  // the source directory is named relatively in panic locations, so the bytes do not depend
  // on where the checkout is
  const target = abi === 'raw' ? ['--crate-type', 'cdylib', '--target', 'wasm32-unknown-unknown'] : ['--target', 'wasm32-wasi']
  await run(bin, ['--edition', '2021', ...target, '-C', 'opt-level=s', '-C', 'strip=symbols', '-C', 'panic=abort', `--remap-path-prefix=${ROOT}=examples`, '-o', out, source])
}

/** Runs `module` of `example` on its documented input in the sandbox the swarm uses. */
export async function answer (example: Example, module: Uint8Array): Promise<Uint8Array> {
  const prepared = await prepareModule(module, await sha256Hex(module), example.abi, DEFAULT_LIMITS.memoryPages)
  const r = runModule(prepared, { abi: example.abi, input: example.input, args: [example.name], env: [], seed: 0, limits: DEFAULT_LIMITS })
  if (r.exitCode !== 0) throw new Error(`${example.name} exited with ${String(r.exitCode)}`)
  return r.output
}

/** One example's check: rebuilt from source, does it answer the same; are the bytes the same. */
export interface CheckResult {
  name: string
  source: string
  /** null: the toolchain is missing here, so nothing was built */
  identical: boolean | null
  answers: boolean | null
  toolchain: string
}

/** Rebuilds every example into a temporary directory and checks it (see the file comment). */
export async function checkExamples (root: string = ROOT): Promise<CheckResult[]> {
  const tmp = await mkdtemp(join(tmpdir(), 'shadw-examples-'))
  try {
    const results: CheckResult[] = []
    for (const name of (await readdir(root, { withFileTypes: true })).filter(e => e.isDirectory()).map(e => e.name).sort()) {
      const dir = join(root, name)
      if (!existsSync(join(dir, 'example.json'))) continue
      const example = await readExample(dir)
      const source = await sourceOf(dir)
      const tool = toolchainFor(source)
      if (!tool.present) {
        results.push({ name, source, identical: null, answers: null, toolchain: tool.name })
        continue
      }
      const out = join(tmp, `${name}.wasm`)
      await build(source, example.abi, out)
      const rebuilt = new Uint8Array(await readFile(out))
      const output = await answer(example, rebuilt)
      results.push({ name, source, identical: Buffer.compare(rebuilt, example.module) === 0, answers: Buffer.compare(output, example.output) === 0, toolchain: tool.name })
    }
    return results
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}

async function main (): Promise<number> {
  if (process.argv.includes('--check')) {
    let failed = 0
    for (const r of await checkExamples()) {
      const state = r.answers === null ? `skipped (${r.toolchain} not installed)` : `${r.answers ? 'answers its example' : 'ANSWERS DIFFERENTLY'}${r.identical === true ? ', byte-identical' : ', bytes differ from the committed build'}`
      if (r.answers === false) failed++
      process.stdout.write(`${r.name.padEnd(16)}${state}\n`)
    }
    return failed === 0 ? 0 : 1
  }
  for (const name of (await readdir(ROOT, { withFileTypes: true })).filter(e => e.isDirectory()).map(e => e.name).sort()) {
    const dir = join(ROOT, name)
    if (!existsSync(join(dir, 'example.json'))) continue
    const meta = JSON.parse(await readFile(join(dir, 'example.json'), 'utf8')) as { abi: 'raw' | 'wasi', module: string }
    const source = await sourceOf(dir)
    await build(source, meta.abi, join(dir, meta.module))
    process.stdout.write(`built examples/${name}/${meta.module}\n`)
  }
  return 0
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then(code => { process.exitCode = code }, (err: unknown) => {
    process.stderr.write(`build-examples: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
