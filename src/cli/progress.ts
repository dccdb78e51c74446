/**
 * Progress on a terminal: anything that may take more than a second says what it is waiting
 * for on stderr, on one line rewritten in place and erased when done. Nothing is written
 * when stderr is not a terminal, so pipes, logs and tests see only the result.
 */

/** Progress appears only after this long: a quick step stays silent. */
const PROGRESS_DELAY_MS = 1_000
/** How often the line is redrawn (the elapsed seconds change). */
const PROGRESS_REDRAW_MS = 250

/** A progress line; `set` changes what it says. */
export interface Progress {
  set (label: string): void
}

/**
 * Runs `fn` with a progress line that appears after a second on a terminal.
 *
 * @example
 * ```ts
 * await withProgress('publishing examples', async p => { p.set('publishing sha256'); ... })
 * ```
 */
export async function withProgress<T> (label: string, fn: (p: Progress) => Promise<T>, stream: NodeJS.WriteStream = process.stderr): Promise<T> {
  if (stream.isTTY !== true) return await fn({ set: () => {} })
  let current = label
  let shown = false
  const started = Date.now()
  const draw = (): void => {
    shown = true
    const secs = Math.floor((Date.now() - started) / 1000)
    stream.write(`\r\x1b[2K${current}… ${secs}s`)
  }
  let redraw: NodeJS.Timeout | undefined
  const first = setTimeout(() => { draw(); redraw = setInterval(draw, PROGRESS_REDRAW_MS) }, PROGRESS_DELAY_MS)
  try {
    return await fn({ set: l => { current = l } })
  } finally {
    clearTimeout(first)
    clearInterval(redraw)
    if (shown) stream.write('\r\x1b[2K')
  }
}
