/** Sums `value(item)` of timed items into `count` buckets of `bucketMs` ending now, oldest first. */
export function bucketise<T extends { at: number }> (items: readonly T[], now: number, count: number, bucketMs: number, value: (item: T) => number): number[] {
  const out = new Array<number>(count).fill(0)
  const start = now - count * bucketMs
  for (const item of items) {
    if (item.at <= start || item.at > now) continue
    const i = Math.min(count - 1, Math.floor((item.at - start) / bucketMs))
    out[i] = (out[i] ?? 0) + value(item)
  }
  return out
}
