// Compiles the Node side of shadw (src/core, src/super-node, src/cli) to JavaScript in lib/,
// one .js file per .ts file at the same relative place, so `shadw` starts without compiling
// TypeScript. Runs as the package's `prepare` step (npm install, npm ci) and from
// bin/shadw.js when the sources in a git checkout are newer than the build.
//
// Plain JavaScript on purpose: it must run before anything is built and without tsx.
// lib/ sits one level under the root like src/, so paths a module computes from its own
// location (`new URL('../../dist', import.meta.url)`) mean the same thing in both trees.
import { existsSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** Folders compiled: what the CLI and the super node load. The browser side is vite's. */
export const SOURCE_DIRS = ['src/core', 'src/super-node', 'src/cli']
export const OUT_DIR = join(ROOT, 'lib')
/** Written last: its mtime is the build's time, compared with the sources' by bin/shadw.js. */
export const STAMP = join(OUT_DIR, '.built')

function walk (dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) walk(p, out)
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/**
 * Newest mtime (ms) among the compiled sources, their folders (a file added, removed or
 * renamed changes its folder's mtime) and this script.
 */
export function newestSourceMtime () {
  let newest = statSync(fileURLToPath(import.meta.url)).mtimeMs
  const visit = (dir) => {
    newest = Math.max(newest, statSync(dir).mtimeMs)
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, entry.name)
      if (entry.isDirectory()) visit(p)
      else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs)
    }
  }
  for (const d of SOURCE_DIRS) visit(join(ROOT, d))
  return newest
}

/** True when lib/ exists and is at least as new as every compiled source. */
export function isBuildFresh () {
  if (!existsSync(STAMP)) return false
  return statSync(STAMP).mtimeMs >= newestSourceMtime()
}

/**
 * A bare import that Node's ESM resolver cannot find as written (tsx resolves CommonJS
 * style, so `hyperdht/testnet` works there) is rewritten to the file it names.
 */
function esmSpecifier (spec, importer) {
  try {
    // resolved from this script, which shares the sources' node_modules; Node 20 resolves a
    // bare subpath without looking for the file, so look here
    const url = import.meta.resolve(spec)
    if (!url.startsWith('file:') || existsSync(fileURLToPath(url))) return spec
  } catch {}
  const file = createRequire(importer).resolve(spec)
  const pkg = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]
  const marker = `${sep}node_modules${sep}${pkg.replaceAll('/', sep)}${sep}`
  const pkgRoot = file.slice(0, file.lastIndexOf(marker) + marker.length)
  return `${pkg}/${relative(pkgRoot, file).split(sep).join('/')}`
}

/** Builds lib/ afresh. A concurrent build is harmless: each writes aside and swaps in. */
export async function buildCli () {
  const esbuild = await import('esbuild')
  // the stamp carries the build's start time: a source saved while it runs counts as newer
  const started = new Date()
  const sources = SOURCE_DIRS.flatMap(d => walk(join(ROOT, d), []))
  const known = new Set(sources)
  const tmp = `${OUT_DIR}.tmp-${process.pid}-${Date.now()}`
  const relativeImport = /^\.\.?\//
  await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: sources,
    outbase: join(ROOT, 'src'),
    outdir: tmp,
    // bundle mode only so the plugin sees every import; each import is left external
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    plugins: [{
      name: 'shadw-per-file',
      setup (build) {
        build.onResolve({ filter: /.*/ }, args => {
          if (args.kind === 'entry-point') return undefined
          if (relativeImport.test(args.path)) {
            const target = resolve(dirname(args.importer), args.path)
            if (!known.has(target)) {
              return { errors: [{ text: `${relative(ROOT, args.importer)} imports ${args.path}, which is outside ${SOURCE_DIRS.join(', ')}` }] }
            }
            return { path: args.path.replace(/\.ts$/, '.js'), external: true }
          }
          if (args.path.startsWith('node:')) return { path: args.path, external: true }
          return { path: esmSpecifier(args.path, args.importer), external: true }
        })
      }
    }]
  })
  writeFileSync(join(tmp, '.built'), started.toISOString() + '\n')
  utimesSync(join(tmp, '.built'), started, started)
  // swap in: a starting process that finds no lib/ for that instant builds its own
  const old = `${OUT_DIR}.old-${process.pid}-${Date.now()}`
  if (existsSync(OUT_DIR)) renameSync(OUT_DIR, old)
  try {
    renameSync(tmp, OUT_DIR)
  } catch (err) {
    // another process swapped its build in first; theirs is as new as ours
    rmSync(tmp, { recursive: true, force: true })
    if (!existsSync(OUT_DIR)) throw err
  }
  rmSync(old, { recursive: true, force: true })
  return sources.length
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = performance.now()
  const n = await buildCli()
  console.log(`shadw: compiled ${n} files to lib/ in ${Math.round(performance.now() - t0)} ms`)
}
