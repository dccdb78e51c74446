import { createHash } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Plugin } from 'vite'
import { ISOLATION_HEADERS } from './src/super-node/isolation.ts'

/**
 * The service worker must be served at the site root as a stable `/sw.js` (its scope is its
 * path) and must know the hashed names of the app shell to precache them. This plugin writes
 * the shell's file list and a version derived from it into sw.js, so every new build of the
 * app is a new service worker that the browser installs.
 */
function shellManifest (): Plugin {
  return {
    name: 'shadw-shell-manifest',
    apply: 'build',
    generateBundle (_options, bundle) {
      const sw = bundle['sw.js']
      if (sw === undefined || sw.type !== 'chunk') return
      const publicFiles = readdirSync('public').map(f => '/' + f)
      const files = ['/', ...publicFiles, ...Object.keys(bundle).filter(f => f !== 'sw.js' && !f.endsWith('.map') && f !== 'index.html').sort().map(f => '/' + f)]
      const version = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 16)
      sw.code = sw.code.replaceAll('__SHELL_FILES__', JSON.stringify(files)).replaceAll('__SHELL_VERSION__', JSON.stringify(version))
    }
  }
}

/** Modules swapped for browser builds; test pages built by tests use the same (test/helpers/test-page.ts). */
export const BROWSER_ALIASES = {
  // a Node addon Hyperdrive pulls in through mirror-drive at import; never used in browsers
  'rabin-native': fileURLToPath(new URL('./src/browser/rabin-native-shim.ts', import.meta.url)),
  // sodium-javascript's ChaCha20, on every byte of every connection: the same cipher, ~10× faster
  'chacha20-universal': fileURLToPath(new URL('./src/browser/chacha20-shim.ts', import.meta.url))
}

export default defineConfig({
  // The Holepunch stack is CommonJS that reads `global` and `process` in a few places.
  define: {
    global: 'globalThis'
  },
  worker: {
    format: 'es',
    // workers are bundled by a build of their own, with its own checks (see build below)
    rolldownOptions: { checks: { bundlerTimings: false } }
  },
  resolve: { alias: BROWSER_ALIASES },
  // cross-origin isolated as the super node serves it, so dev and preview read mounts on demand too
  server: { headers: { ...ISOLATION_HEADERS } },
  preview: { headers: { ...ISOLATION_HEADERS } },
  build: {
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: {
      // the bundler's report of slow plugins is for whoever tunes the build, not for every
      // `npm start`: on a busy machine it printed before the banner
      checks: { bundlerTimings: false },
      // Known, harmless notices from third-party code would greet every `npm start`: apg-js
      // (via siwe) writes its 'use strict' as a typo'd directive; Lit's Node-only branches
      // import "crypto", which browsers never reach; Lit's own static imports of `buffer`
      // make our lazy import of it a no-op for chunking. Everything else is reported.
      onLog (level, log, handler) {
        const message = log.message ?? ''
        if (log.code === 'MODULE_LEVEL_DIRECTIVE' && (log.id ?? '').includes('apg-js')) return
        if (log.plugin === 'rolldown:vite-resolve' && message.includes('Module "crypto" has been externalized') && message.includes('@lit-protocol')) return
        if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT' && message.includes('node_modules/buffer/index.js')) return
        handler(level, log)
      },
      input: {
        index: 'index.html',
        sw: 'workers/sw.ts'
      },
      output: {
        entryFileNames: chunk => chunk.name === 'sw' ? 'sw.js' : 'assets/[name]-[hash].js'
      }
    }
  },
  plugins: [shellManifest()]
})
