/**
 * Test-only pages with entries of their own (a node worker with a faulty executor): built
 * with Vite as the app is, into a temporary directory, and served on loopback. What they
 * wrap never ships: the app's build has no entry under test/.
 */
import { basename, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import { build } from 'vite'
import { AppServer } from '../../src/super-node/app-server.ts'
import { tempDir } from './super-node.ts'
import { BROWSER_ALIASES } from '../../vite.config.ts'

/**
 * Builds the page at `html` (a path from the repository root) and serves it; resolves to
 * the page's URL. Server and build are removed when the test finishes.
 *
 * @example
 * ```ts
 * const url = await serveTestPage('test/browser/core/invoke/faulty-tab/page.html')
 * await openApp(context, `${url}?relay=${relayUrl}&fault=lie`)
 * ```
 */
export async function serveTestPage (html: string): Promise<string> {
  const page = fileURLToPath(new URL(`../../${html}`, import.meta.url))
  const out = await tempDir('shadw-test-page-')
  await build({
    configFile: false,
    root: dirname(page),
    logLevel: 'error',
    // what the app's vite.config.ts gives the Holepunch stack: CommonJS that reads `global`
    define: { global: 'globalThis' },
    resolve: { alias: BROWSER_ALIASES },
    worker: { format: 'es' },
    build: { outDir: out, emptyOutDir: true, target: 'es2022', rolldownOptions: { input: page } }
  })
  const server = new AppServer({ root: out })
  onTestFinished(async () => { await server.close() })
  const address = await server.listen(0, '127.0.0.1')
  return `http://127.0.0.1:${address.port}/${basename(page)}`
}
