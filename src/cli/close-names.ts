/**
 * Close names for "did you mean": a mistyped command or function name is answered with the
 * names it is a few edits away from.
 */

/** Names further than this many edits (or a third of the name) are not suggested. */
const MAX_EDITS = 3
/** At most this many suggestions: a long list reads as noise. */
const MAX_SUGGESTIONS = 3

/** Levenshtein distance, two rows at a time (names are short). */
export function editDistance (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    prev = row
  }
  return prev[b.length] as number
}

/** The names of `among` closest to `name` (prefix matches count as close), nearest first. */
export function closeNames (name: string, among: readonly string[]): string[] {
  const limit = Math.min(MAX_EDITS, Math.max(1, Math.ceil(name.length / 3)))
  return among
    .map(n => ({ n, d: n.startsWith(name) || name.startsWith(n) ? 0.5 : editDistance(name, n) }))
    .filter(x => x.d <= limit && x.n !== name)
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))
    .slice(0, MAX_SUGGESTIONS)
    .map(x => x.n)
}
