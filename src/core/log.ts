/**
 * A tiny namespaced logger: `const debug = log('swarm'); debug('joined %s', topic)`.
 *
 * Silent unless enabled, so tests and benches print nothing by default. Enable with the
 * `SHADW_DEBUG` environment variable in Node or `localStorage.shadwDebug` in browsers, as a
 * comma-separated list of namespaces or `*`.
 */

/** A namespaced log function. */
export type Logger = (...args: unknown[]) => void

let enabled: Set<string> | '*' | null = null

/** Enables namespaces at run time (e.g. from a CLI `--verbose` flag). */
export function enableLog (spec: string): void {
  const parts = spec.split(',').map(s => s.trim()).filter(Boolean)
  enabled = parts.includes('*') ? '*' : new Set(parts)
}

function initFromEnvironment (): void {
  if (enabled !== null) return
  const g = globalThis as { process?: { env?: Record<string, string | undefined> }, localStorage?: { getItem (k: string): string | null } }
  let spec = g.process?.env?.['SHADW_DEBUG'] ?? ''
  try {
    if (spec === '' && g.localStorage !== undefined) spec = g.localStorage.getItem('shadwDebug') ?? ''
  } catch {
    // localStorage throws in opaque origins; logging stays off there
  }
  enableLog(spec)
}

/** True when `namespace` logs: a caller checks it before building a costly line. */
export function logs (namespace: string): boolean {
  initFromEnvironment()
  return enabled === '*' || (enabled !== null && enabled.has(namespace))
}

/** Returns the logger for `namespace`. */
export function log (namespace: string): Logger {
  return (...args: unknown[]) => {
    initFromEnvironment()
    if (enabled === '*' || (enabled !== null && enabled.has(namespace))) {
      console.error(`[shadw:${namespace}]`, ...args)
    }
  }
}
