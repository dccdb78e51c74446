// Builds the web app for `npm start`: `vite build`, quiet unless it fails. The build takes
// from a few seconds to half a minute, so on a terminal it says so on one line of stderr,
// rewritten in place and erased when done (as src/cli/progress.ts does for the CLI; this
// runs before anything is compiled, hence plain JavaScript and its own copy of that line).
// Nothing of the build reaches a pipe or a log unless it fails: then all of vite's output
// does, and the exit code is vite's.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The line appears only after this long: a quick build stays silent. */
const PROGRESS_DELAY_MS = 1_000
/** How often the line is redrawn (the elapsed seconds change). */
const PROGRESS_REDRAW_MS = 250
/** Output kept for the failure report; vite's error output is far below this. */
const MAX_KEPT_BYTES = 4 * 1024 * 1024

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(import.meta.url)
const VITE = join(dirname(require.resolve('vite/package.json')), 'bin', 'vite.js')

/**
 * Runs `vite build --logLevel error` with `args` after it (`--outDir DIR` builds elsewhere);
 * resolves to its exit code.
 */
export async function buildApp (args = [], stream = process.stderr) {
  const child = spawn(process.execPath, [VITE, 'build', '--logLevel', 'error', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  const kept = []
  let size = 0
  const keep = d => {
    if (size + d.byteLength > MAX_KEPT_BYTES) return
    size += d.byteLength
    kept.push(d)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)

  const tty = stream.isTTY === true
  const started = Date.now()
  let shown = false
  let redraw
  const draw = () => {
    shown = true
    stream.write(`\r\x1b[2Kbuilding the web app… ${Math.floor((Date.now() - started) / 1000)}s`)
  }
  const first = tty ? setTimeout(() => { draw(); redraw = setInterval(draw, PROGRESS_REDRAW_MS) }, PROGRESS_DELAY_MS) : undefined

  const code = await new Promise(resolve => {
    child.on('error', err => { keep(Buffer.from(`${err.message}\n`)); resolve(1) })
    child.on('close', c => { resolve(c ?? 1) })
  })
  clearTimeout(first)
  clearInterval(redraw)
  if (shown) stream.write('\r\x1b[2K')
  if (code !== 0) {
    stream.write(Buffer.concat(kept))
    stream.write(`vite build failed (exit code ${code})\n`)
  }
  return code
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await buildApp(process.argv.slice(2))
}
