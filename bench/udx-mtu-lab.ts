/**
 * UDX MTU lab: builds udx-native 1.14.2 from its own sources (the last release on npm that
 * ships libudx's C sources; later ones fetch them from GitHub at build time) with a larger
 * datagram cap, into a package directory that can stand in for node_modules/udx-native in a
 * PRIVATE copy of node_modules. A measurement aid for docs/performance.md ("Transport: a larger
 * MTU, measured"), not part of the install: nothing in the project depends on it.
 *
 *   npm pack udx-native@1.14.2                     # the sources, from the npm registry
 *   node --import tsx bench/udx-mtu-lab.ts build --tarball udx-native-1.14.2.tgz --out /tmp/udx-big --mtu 65535
 *   node --import tsx bench/udx-mtu-lab.ts build --tarball udx-native-1.14.2.tgz --out /tmp/udx-old --stock
 *   node --import tsx bench/udx-mtu-lab.ts use /tmp/udx-big     # then bench/udx-lab.ts, npm run bench ...
 *   node --import tsx bench/udx-mtu-lab.ts use stock            # the installed release back
 *
 * The build compiles the addon directly (one `cc` call: the binding and libudx against Node's
 * own headers, whose N-API and libuv symbols the running node provides) instead of through
 * the package's CMake files, which need cmake-bare/cmake-napi from npm and, for libuv, a
 * checkout that is not in the tarball.
 *
 * What the patch (udx-mtu-lab.patch, next to this file) changes, all in the sources of 1.14.2:
 * the compile-time cap on the datagram size (UDX_MTU_MAX, still lowered to the path's IP_MTU
 * at connect and still reached only by RFC 8899 probing), the probe step (each probe may pad a
 * full packet by at most 255 bytes: an 8-bit field in the header), a receive buffer of 64 KiB
 * instead of 2 KiB with any datagram the kernel had to cut short dropped instead of processed
 * as a shorter one, and the JavaScript read buffer large enough to always take a whole datagram
 * (the binding silently drops one that does not fit, after libudx acknowledged it).
 */
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, lstatSync, mkdtempSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const PATCH = join(HERE, 'udx-mtu-lab.patch')
const NODE_MODULES = resolve(HERE, '..', 'node_modules')
const INSTALLED = join(NODE_MODULES, 'udx-native')
/** Where `use` keeps the installed release while a lab build stands in for it. */
const STOCK = join(NODE_MODULES, '.udx-native-stock')
/** The largest UDP datagram over IPv4 is 65,535 bytes of IP packet; libudx keeps its MTU in a uint16_t. */
const MTU_LIMIT = 65_535
/** A probe pads a full packet by an 8-bit count of bytes (libudx's header byte 3). */
const STEP_LIMIT = 255

const HELP = `udx-mtu-lab: build udx-native 1.14.2 with a larger datagram cap, and swap it in

  build --tarball FILE --out DIR [--mtu N] [--step N] [--stock] [--nodedir DIR] [--cc CC]
        unpack FILE (npm pack udx-native@1.14.2), apply udx-mtu-lab.patch (not with --stock),
        compile the addon into DIR/build/Release. --mtu: the datagram cap (1,500 upstream;
        ${MTU_LIMIT} at most), --step: bytes per probe (32 upstream; ${STEP_LIMIT} at most),
        --nodedir: Node's headers (default: next to this node, e.g. /usr/include/node).
  use DIR | stock
        put DIR in place of node_modules/udx-native (the installed release is kept in
        node_modules/.udx-native-stock), or put the installed release back. Refused when
        node_modules is a symlink (a shared copy).
  --help  this text`

function flag (args: string[], name: string): string | undefined {
  const i = args.indexOf(name)
  if (i === -1) return undefined
  const value = args[i + 1]
  if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value`)
  return value
}

function boundedInt (value: string | undefined, fallback: number, min: number, max: number, name: string): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be an integer from ${min} to ${max}, not ${value}`)
  return n
}

function build (args: string[]): void {
  const tarball = flag(args, '--tarball')
  const out = flag(args, '--out')
  if (tarball === undefined || out === undefined) throw new Error('build needs --tarball and --out (see --help)')
  const stock = args.includes('--stock')
  const mtu = boundedInt(flag(args, '--mtu'), stock ? 1500 : MTU_LIMIT, 1500, MTU_LIMIT, '--mtu')
  const step = boundedInt(flag(args, '--step'), stock ? 32 : 240, 32, STEP_LIMIT, '--step')
  if (stock && (flag(args, '--mtu') !== undefined || flag(args, '--step') !== undefined)) throw new Error('--stock builds the sources as released: no --mtu or --step')
  const nodedir = flag(args, '--nodedir') ?? resolve(dirname(process.execPath), '..', 'include', 'node')
  if (!existsSync(join(nodedir, 'node_api.h'))) throw new Error(`no node_api.h in ${nodedir}: pass --nodedir`)
  const cc = flag(args, '--cc') ?? process.env['CC'] ?? 'cc'

  const scratch = mkdtempSync(join(tmpdir(), 'udx-mtu-lab-'))
  try {
    execFileSync('tar', ['-xzf', resolve(tarball), '-C', scratch])
    const pkg = join(scratch, 'package')
    const version = (JSON.parse(execFileSync('node', ['-p', 'JSON.stringify(require("./package.json"))'], { cwd: pkg, encoding: 'utf8' })) as { version: string }).version
    if (version !== '1.14.2') throw new Error(`the patch is for udx-native 1.14.2, the tarball holds ${version}`)
    if (!stock) execFileSync('patch', ['-p1', '--forward', '-i', PATCH], { cwd: pkg, stdio: 'inherit' })
    // the release's own prebuilds would load if the build were missing: keep only ours
    rmSync(join(pkg, 'prebuilds'), { recursive: true, force: true })
    const lib = join(pkg, 'vendor', 'libudx')
    const sources = ['binding.c', ...['udx.c', 'cirbuf.c', 'endian.c', 'queue.c', 'io_posix.c'].map(f => join(lib, 'src', f))]
    const defines = stock ? [] : [`-DUDX_MTU_MAX=${mtu}`, `-DUDX_MTU_STEP=${step}`]
    execFileSync('mkdir', ['-p', join(pkg, 'build', 'Release')])
    // -DNDEBUG as CMake's release build: libudx prints its debug trace otherwise
    execFileSync(cc, ['-O3', '-DNDEBUG', '-fPIC', '-shared', '-std=gnu99', '-DNAPI_VERSION=8', ...defines,
      `-I${nodedir}`, `-I${join(lib, 'include')}`, ...sources, '-lm', '-o', join(pkg, 'build', 'Release', 'udx_native.node')],
    { cwd: pkg, stdio: 'inherit' })
    rmSync(out, { recursive: true, force: true })
    cpSync(pkg, out, { recursive: true })
    console.log(`built udx-native 1.14.2 ${stock ? 'as released (MTU cap 1500, step 32)' : `with MTU cap ${mtu}, probe step ${step}`} in ${out}`)
  } finally {
    rmSync(scratch, { recursive: true, force: true })
  }
}

function use (target: string | undefined): void {
  if (target === undefined) throw new Error('use needs a directory or "stock" (see --help)')
  if (lstatSync(NODE_MODULES).isSymbolicLink()) throw new Error(`${NODE_MODULES} is a symlink (a shared copy): make a private copy first`)
  if (target === 'stock') {
    if (!existsSync(STOCK)) { console.log('the installed release is already in place'); return }
    rmSync(INSTALLED, { recursive: true, force: true })
    renameSync(STOCK, INSTALLED)
    console.log('node_modules/udx-native: the installed release again')
    return
  }
  const dir = resolve(target)
  if (!existsSync(join(dir, 'build', 'Release', 'udx_native.node'))) throw new Error(`${dir} holds no lab build (build/Release/udx_native.node)`)
  if (existsSync(STOCK)) rmSync(INSTALLED, { recursive: true, force: true })
  else renameSync(INSTALLED, STOCK)
  cpSync(dir, INSTALLED, { recursive: true })
  console.log(`node_modules/udx-native: the lab build from ${dir} (installed release kept in ${STOCK})`)
}

function main (args: string[]): void {
  const [command, ...rest] = args
  if (command === undefined || command === '--help' || command === '-h' || rest.includes('--help')) { console.log(HELP); return }
  if (command === 'build') build(rest)
  else if (command === 'use') use(rest[0])
  else throw new Error(`unknown command ${command} (see --help)`)
}

try {
  main(process.argv.slice(2))
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err))
  process.exit(1)
}
