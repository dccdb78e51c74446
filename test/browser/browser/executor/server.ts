/**
 * Serves the repository with a Vite dev server on loopback for browser sandbox tests and
 * benches; independent of the app's vite.config.ts.
 */
import { createServer, type ViteDevServer } from 'vite'

/** The URL of the sandbox test page once {@link startSandboxServer} resolved. */
export const PAGE_PATH = '/test/browser/browser/executor/page.html'

/**
 * Starts Vite on 127.0.0.1 with an ephemeral port; returns the server and its base URL.
 * `isolated`: every response carries COOP/COEP, so the page is cross-origin isolated.
 */
export async function startSandboxServer (opts: { isolated?: boolean } = {}): Promise<{ server: ViteDevServer, url: string }> {
  const headers = opts.isolated === true ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : undefined
  const server = await createServer({
    root: new URL('../../../../', import.meta.url).pathname,
    configFile: false,
    logLevel: 'error',
    clearScreen: false,
    server: { port: 0, host: '127.0.0.1', hmr: false, watch: null, ...(headers === undefined ? {} : { headers }) },
    // both dependencies are plain ESM; skipping discovery avoids a reload mid-test
    optimizeDeps: { noDiscovery: true, include: [] }
  })
  await server.listen()
  const address = server.httpServer?.address()
  if (address === null || address === undefined || typeof address === 'string') throw new Error('vite did not bind a port')
  return { server, url: `http://127.0.0.1:${address.port}` }
}
