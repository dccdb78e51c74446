#!/usr/bin/env node
// The shadw command. It runs the JavaScript that scripts/build-cli.mjs compiles into lib/
// (the package's `prepare` step, so on npm install and npm ci). Compiling TypeScript at
// every start cost over a second.
//
// A stale build never runs: in a git checkout, when any compiled source is newer than the
// build (an edit, a pull, a branch switch), the build is redone first (a few hundred ms,
// once). If it cannot be (no esbuild, a read-only install), the command runs the
// TypeScript sources through tsx as before, which is slower but always current.
// SHADW_FROM_SOURCE=1 forces that path.
import { existsSync } from 'node:fs'
import { buildCli, isBuildFresh, STAMP } from '../scripts/build-cli.mjs'

// Lit 7 announces its own deprecated constants through depd on every load; users of the CLI
// cannot act on them
process.env.NO_DEPRECATION = [process.env.NO_DEPRECATION, 'lit-js-sdk:constants:errors', 'lit-js-sdk:constants:constants'].filter(Boolean).join(',')

/** Where the sources can change under the build: a checkout, not an installed package. */
const inCheckout = existsSync(new URL('../.git', import.meta.url))

async function loadMain () {
  if (process.env.SHADW_FROM_SOURCE !== '1') {
    let fresh = existsSync(STAMP) && (!inCheckout || isBuildFresh())
    if (!fresh) {
      // a terminal is told why the command has not answered yet (the first build takes seconds)
      const tty = process.stderr.isTTY === true
      if (tty) process.stderr.write('\r\x1b[2Kcompiling the shadw command into lib/ (its sources changed)…')
      try {
        await buildCli()
        if (tty) process.stderr.write('\r\x1b[2K')
        fresh = true
      } catch (err) {
        if (tty) process.stderr.write('\r\x1b[2K')
        process.stderr.write(`shadw: could not rebuild lib/ (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); running the TypeScript sources\n`)
      }
    }
    if (fresh) return (await import('../lib/cli/cli.js')).main
  }
  const { register } = await import('tsx/esm/api')
  register()
  return (await import('../src/cli/cli.ts')).main
}

const main = await loadMain()
process.exitCode = await main(process.argv.slice(2))
