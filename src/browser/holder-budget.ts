/**
 * A browser contributor's disk budget for pinned drives: what it offered, but never more
 * than the origin may still store. The browser evicts or refuses writes past the quota, so a
 * budget above it would promise holds the tab cannot keep.
 */

/** Share of the quota left that a holder may take: the node's own logs and caches need the rest. */
const QUOTA_SHARE = 0.8

/** What `navigator.storage.estimate()` answers (either figure may be missing). */
export interface StorageEstimate { quota?: number, usage?: number }

/**
 * The bytes a tab may hold for others: the offered budget, capped at {@link QUOTA_SHARE} of
 * the quota the origin has left. No estimate (an API missing) means no cap is known: 0.
 *
 * @example
 * ```ts
 * const budget = await holderBudget(offered, () => navigator.storage.estimate())
 * ```
 */
export async function holderBudget (offered: number, estimate: (() => Promise<StorageEstimate>) | undefined): Promise<number> {
  if (!(offered > 0) || estimate === undefined) return 0
  let e: StorageEstimate
  try {
    e = await estimate()
  } catch {
    return 0
  }
  if (typeof e.quota !== 'number') return 0
  const left = Math.max(0, e.quota - (e.usage ?? 0))
  return Math.min(offered, Math.floor(left * QUOTA_SHARE))
}
