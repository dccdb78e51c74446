/**
 * A one-line progress bar on stderr for commands that move bytes; silent when stderr is not
 * a terminal (pipes and tests get the final summary only).
 */

/** Least time between redraws, ms: a bar redrawn per 64 KiB block would cost more than the copy. */
const REDRAW_MS = 100
const WIDTH = 24

/** Bytes as people read them: 1.5 MiB. */
export function formatBytes (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let u = 0
  let v = n
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`
}

/** A progress bar for `total` bytes (null: unknown) labelled `label`. */
export class Progress {
  readonly #out: NodeJS.WriteStream
  readonly #enabled: boolean
  readonly #started = Date.now()
  #total: number | null
  #label: string
  #last = 0

  constructor (label: string, total: number | null, out: NodeJS.WriteStream = process.stderr) {
    this.#out = out
    this.#enabled = out.isTTY
    this.#label = label
    this.#total = total
  }

  /** Switches to the next item (a file of a folder upload). */
  relabel (label: string): void {
    this.#label = label
  }

  /** Redraws at `done` bytes (throttled). */
  update (done: number): void {
    if (!this.#enabled) return
    const now = Date.now()
    if (now - this.#last < REDRAW_MS) return
    this.#last = now
    const secs = Math.max(0.001, (now - this.#started) / 1000)
    const rate = `${formatBytes(done / secs)}/s`
    const total = this.#total
    const line = total === null || total === 0
      ? `${this.#label} ${formatBytes(done)} ${rate}`
      : `${this.#label} [${'#'.repeat(Math.round(WIDTH * Math.min(1, done / total))).padEnd(WIDTH, '-')}] ${Math.floor(100 * done / total)}% ${formatBytes(done)}/${formatBytes(total)} ${rate}`
    this.#out.write(`\r${line.slice(0, (this.#out.columns ?? 80) - 1)}\u001b[K`)
  }

  /** Clears the bar. */
  done (): void {
    if (this.#enabled) this.#out.write('\r\u001b[K')
  }
}
