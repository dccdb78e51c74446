/**
 * `shadw run <module.wasm> [--abi raw|wasi] [--input FILE|-] [--fuel N] [--memory PAGES]
 * [--deadline MS] [--seed N] [--dir HOST[::GUEST]]... [--mount DRIVE[@V][:FROM]::GUEST]...
 * [--env KEY=VALUE]... [--bootstrap host:port[,…] | --node URL] [--json] [-- ARGS...]`: runs a
 * module locally in the same sandbox the network uses (a one-worker Node executor) and prints
 * its output. Only `--mount` touches the network: a light node fetches the mounted drives.
 */
import { readFile } from 'node:fs/promises'
import { ShadwError } from '../core/errors.ts'
import { parseModule, type Abi, type ExecuteCall, type ExecutionLimits, type Preopen } from '../core/sandbox/index.ts'
import { MAX_HOST_TREE_BYTES, readHostTree } from './host-tree.ts'
import { createNodeExecutor } from '../super-node/executor/index.ts'
import { DEFAULT_PORT } from '../super-node/defaults.ts'
import { MOUNT_FLAG_FORM, MOUNT_FLAG_HELP } from './mount-flag-form.ts'
import type { MountFlag } from './mount-flag.ts'

/** Where the command reads and writes; tests pass their own. */
export interface CliIo {
  stdout (bytes: Uint8Array | string): void
  stderr (text: string): void
  readStdin (): Promise<Uint8Array>
}

/** Module files larger than this are refused before reading: 64 MiB is far beyond any function. */
export const MAX_MODULE_FILE_BYTES = 64 * 1024 * 1024

const USAGE = `usage: shadw run <module.wasm> [--abi raw|wasi] [--input FILE|-] [--fuel N] [--memory PAGES]
                  [--deadline MS] [--seed N] [--dir HOST[::GUEST]]... [${MOUNT_FLAG_FORM}]...
                  [--env KEY=VALUE]... [--bootstrap host:port[,…] | --node URL] [--json] [-- ARGS...]`

const HELP = `${USAGE}

Runs a module locally in the sandbox the network uses.
  --abi raw|wasi        calling convention (default: wasi if the module exports _start)
  --input FILE|-        the raw ABI's input, or WASI stdin (- reads this process's stdin)
  --fuel N              fuel limit (about one unit per instruction)
  --memory PAGES        memory cap in 64 KiB pages
  --deadline MS         wall-clock deadline
  --seed N              seed of the virtual clock and random source
  --dir HOST[::GUEST]   WASI: mount host directory HOST at GUEST (default: HOST as given).
                        Copy-on-write: the module may write, its writes vanish with the
                        call and HOST is never modified (read up to ${MAX_HOST_TREE_BYTES / 1024 / 1024} MiB). Repeatable.
${MOUNT_FLAG_HELP}
  --node URL            the super node whose swarm --mount fetches from (default
                        http://127.0.0.1:${DEFAULT_PORT}/); --bootstrap host:port[,…] joins a DHT directly
  --env KEY=VALUE       WASI: an environment variable. Repeatable.
  --json                print one JSON object (output and stderr as base64, fuel, exit code)
  -- ARGS...            WASI: arguments after the program name`

const processIo: CliIo = {
  stdout: b => { process.stdout.write(b) },
  stderr: t => { process.stderr.write(t) },
  readStdin: async () => {
    const chunks: Buffer[] = []
    for await (const c of process.stdin) chunks.push(c as Buffer)
    return new Uint8Array(Buffer.concat(chunks))
  }
}

interface RunOptions {
  file: string
  abi: Abi | undefined
  input: string | undefined
  limits: Partial<ExecutionLimits>
  seed: number | undefined
  json: boolean
  args: string[]
  dirs: Array<{ host: string, guest: string }>
  /** `--mount` as given; parsed in runCommand, which loads the drive code only when there is one */
  mountSpecs: string[]
  mounts: MountFlag[]
  bootstrap: string | undefined
  node: string | undefined
  env: string[]
  help: boolean
}

function integer (flag: string, value: string | undefined): number {
  if (value === undefined || !/^\d+$/.test(value)) throw ShadwError.INVALID_ARGUMENT(`${flag} needs a non-negative integer`)
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw ShadwError.INVALID_ARGUMENT(`${flag} is too large`)
  return n
}

function parseArgs (argv: string[]): RunOptions {
  const opts: RunOptions = { file: '', abi: undefined, input: undefined, limits: {}, seed: undefined, json: false, args: [], dirs: [], mountSpecs: [], mounts: [], bootstrap: undefined, node: undefined, env: [], help: false }
  const files: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string
    const next = (): string | undefined => argv[++i]
    switch (a) {
      case '--abi': {
        const v = next()
        if (v !== 'raw' && v !== 'wasi') throw ShadwError.INVALID_ARGUMENT('--abi must be raw or wasi')
        opts.abi = v
        break
      }
      case '--input': {
        const v = next()
        if (v === undefined) throw ShadwError.INVALID_ARGUMENT('--input needs a file or -')
        opts.input = v
        break
      }
      case '--fuel': opts.limits.fuel = integer(a, next()); break
      case '--memory': opts.limits.memoryPages = integer(a, next()); break
      case '--deadline': opts.limits.deadlineMs = integer(a, next()); break
      case '--seed': opts.seed = integer(a, next()); break
      case '--json': opts.json = true; break
      case '--help': case '-h': opts.help = true; break
      case '--dir': {
        const v = next()
        if (v === undefined || v === '') throw ShadwError.INVALID_ARGUMENT('--dir needs HOST[::GUEST]')
        const at = v.indexOf('::')
        const host = at < 0 ? v : v.slice(0, at)
        const guest = at < 0 ? v : v.slice(at + 2)
        if (host === '' || guest === '') throw ShadwError.INVALID_ARGUMENT('--dir needs HOST[::GUEST]')
        opts.dirs.push({ host, guest })
        break
      }
      case '--mount': {
        const v = next()
        if (v === undefined) throw ShadwError.MOUNT_INVALID(`--mount needs ${MOUNT_FLAG_FORM.slice('--mount '.length)}`)
        opts.mountSpecs.push(v)
        break
      }
      case '--bootstrap': case '--node': {
        const v = next()
        if (v === undefined || v === '') throw ShadwError.INVALID_ARGUMENT(`${a} needs a value`)
        if (a === '--node') opts.node = v
        else opts.bootstrap = v
        break
      }
      case '--env': {
        const v = next()
        if (v === undefined || v.indexOf('=') <= 0) throw ShadwError.INVALID_ARGUMENT('--env needs KEY=VALUE')
        opts.env.push(v)
        break
      }
      case '--':
        opts.args = argv.slice(i + 1)
        i = argv.length
        break
      default:
        if (a.startsWith('-') && a !== '-') throw ShadwError.INVALID_ARGUMENT(`unknown option ${a}`)
        files.push(a)
    }
  }
  if (opts.help) return opts
  if (files.length !== 1) throw ShadwError.INVALID_ARGUMENT('expected exactly one module file')
  if (opts.bootstrap !== undefined && opts.node !== undefined) throw ShadwError.INVALID_ARGUMENT('--bootstrap and --node exclude each other')
  opts.file = files[0] as string
  return opts
}

function base64 (bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/**
 * Runs the `run` command; resolves with the process exit code: the module's own exit code
 * (WASI) or 0 on success, 1 when the sandbox refused or stopped the call, 2 on bad usage.
 */
export async function runCommand (argv: string[], io: CliIo = processIo): Promise<number> {
  let opts: RunOptions
  try {
    opts = parseArgs(argv)
    if (opts.mountSpecs.length > 0) {
      const { parseMountFlag } = await import('./mount-flag.ts')
      opts.mounts = opts.mountSpecs.map(parseMountFlag)
    }
  } catch (err) {
    io.stderr(`shadw run: ${(err as Error).message}\n${USAGE}\n`)
    return 2
  }
  if (opts.help) {
    io.stdout(HELP + '\n')
    return 0
  }
  const fail = (err: unknown): number => {
    const e = err instanceof ShadwError ? err : ShadwError.INTERNAL(String(err), err)
    if (opts.json) io.stdout(JSON.stringify({ ok: false, code: e.code, message: e.message, details: e.details }) + '\n')
    else io.stderr(`shadw run: ${e.message}\n`)
    return e.code === 'INVALID_ARGUMENT' ? 2 : 1
  }
  let module: Uint8Array
  let input: Uint8Array
  const preopens: Preopen[] = []
  try {
    const budget = { bytes: 0, nodes: 0 }
    for (const d of opts.dirs) preopens.push({ guest: d.guest, tree: await readHostTree(d.host, budget) })
    module = await readBounded(opts.file)
    if (opts.mounts.length > 0) preopens.push(...await fetchMounts(opts))
    input = opts.input === undefined
      ? new Uint8Array(0)
      : opts.input === '-' ? await io.readStdin() : await readBounded(opts.input)
  } catch (err) {
    return fail(err instanceof ShadwError ? err : ShadwError.INVALID_ARGUMENT(`cannot read: ${(err as Error).message}`))
  }
  const executor = createNodeExecutor({ size: 1, maxQueue: 0 })
  try {
    const abi = opts.abi ?? detectAbi(module)
    const call: ExecuteCall = { module, abi, input, args: opts.args, env: opts.env, limits: opts.limits }
    if (preopens.length > 0) call.preopens = preopens
    if (opts.seed !== undefined) call.seed = opts.seed
    const r = await executor.execute(call)
    if (opts.json) {
      io.stdout(JSON.stringify({
        ok: true,
        output: base64(r.output),
        fuelUsed: r.fuelUsed,
        durationMs: Math.round(r.durationMs * 1000) / 1000,
        exitCode: r.exitCode,
        moduleHash: r.moduleHash,
        stderr: base64(r.stderr)
      }) + '\n')
    } else {
      io.stdout(r.output)
      if (r.stderr.length > 0) io.stderr(new TextDecoder().decode(r.stderr))
    }
    return r.exitCode
  } catch (err) {
    return fail(err)
  } finally {
    await executor.close()
  }
}

/** The drives of `--mount`, fetched from the swarm by a light node that lives only this long. */
async function fetchMounts (opts: RunOptions): Promise<Preopen[]> {
  const { bootstrapOf, startLightNode } = await import('./invoke.ts')
  const { mountPreopens, pinMountFlags } = await import('./mount-flag.ts')
  const bootstrap = opts.bootstrap !== undefined ? opts.bootstrap.split(',').filter(Boolean) : await bootstrapOf(opts.node ?? `http://127.0.0.1:${DEFAULT_PORT}/`)
  const client = await startLightNode(bootstrap)
  try {
    return await mountPreopens(client.node, await pinMountFlags(client.node, opts.mounts))
  } finally {
    await client.stop()
  }
}

/** WASI when the module exports `_start`, raw otherwise; unparsable bytes fail in the sandbox. */
function detectAbi (module: Uint8Array): Abi {
  try {
    return parseModule(module).exports.some(e => e.name === '_start' && e.kind === 'func') ? 'wasi' : 'raw'
  } catch {
    return 'raw'
  }
}

async function readBounded (path: string): Promise<Uint8Array> {
  const bytes = await readFile(path)
  if (bytes.length > MAX_MODULE_FILE_BYTES) throw ShadwError.INPUT_TOO_LARGE(bytes.length, MAX_MODULE_FILE_BYTES)
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}
