import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'
import { SuperNode, type SuperNodeOptions } from '../../src/super-node/super-node.ts'

/** The web app built by `npm test`'s `vite build` step. */
export const APP_ROOT = fileURLToPath(new URL('../../dist', import.meta.url))

/** A fresh temporary directory, removed after the test. */
export async function tempDir (prefix = 'shadw-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  onTestFinished(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/** A real super node on loopback (embedded DHT, relay, app) on a free port, stopped after the test. */
export async function startSuperNode (opts: Partial<SuperNodeOptions> = {}): Promise<SuperNode> {
  const node = await SuperNode.start({ storage: opts.storage ?? await tempDir(), appRoot: APP_ROOT, port: 0, ...opts })
  onTestFinished(async () => { await node.stop() })
  return node
}
