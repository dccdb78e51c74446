import { isHexKey } from '../core/hex.ts'

/**
 * Which peers are super nodes. A super node that executes says so in its capacity adverts;
 * one that does not (`--workers 0`) runs no invocation channel, so the page also asks the
 * super node that served it (`/api/status`) for its key.
 */
export async function servingSuperNode (): Promise<string | null> {
  try {
    const res = await fetch('/api/status', { cache: 'no-store' })
    if (!res.ok) return null
    const body = await res.json() as { publicKey?: unknown }
    return isHexKey(body.publicKey) ? body.publicKey : null
  } catch {
    return null
  }
}

/** Super-node keys known from adverts (`tier: 'super'`) and from the serving super node. */
export function superKeys (executors: ReadonlyArray<{ key: string, tier: string | null }>, serving: string | null): Set<string> {
  const keys = new Set(executors.filter(e => e.tier === 'super').map(e => e.key))
  if (serving !== null) keys.add(serving)
  return keys
}

export function isSuper (key: string, keys: ReadonlySet<string>): boolean {
  return keys.has(key)
}
