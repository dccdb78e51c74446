/**
 * The worker bundles the build writes stay the size of what they run. The service worker is
 * fetched again on every app update and started on every `/fn/*` fetch, and the executor
 * worker is spawned per slot: a barrel import that drags the invocation stack, Hyperbee or
 * Lit into either one multiplies its size (it did once: sw.js went from 33 KB to 850 KB).
 */
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { APP_ROOT } from '../../helpers/super-node.ts'

/** About 3× what each carries today (sw.js 34 KB, executor worker 56 KB minified). */
const SW_BUDGET_BYTES = 100 * 1024
const EXECUTOR_WORKER_BUDGET_BYTES = 160 * 1024

function asset (prefix: string): number {
  const name = readdirSync(join(APP_ROOT, 'assets')).find(f => f.startsWith(prefix) && f.endsWith('.js'))
  if (name === undefined) throw new Error(`no ${prefix}*.js in ${APP_ROOT}/assets: run vite build`)
  return statSync(join(APP_ROOT, 'assets', name)).size
}

describe('built worker bundles', () => {
  it('the service worker carries the gateway and the bridge router, not the node', () => {
    expect(statSync(join(APP_ROOT, 'sw.js')).size).toBeLessThan(SW_BUDGET_BYTES)
  })

  it('the executor worker carries the sandbox, not the node', () => {
    expect(asset('executor.worker-')).toBeLessThan(EXECUTOR_WORKER_BUDGET_BYTES)
  })
})
