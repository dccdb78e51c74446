/**
 * The race the caller's "latest" pin must survive: a drive's owner writing a new version of
 * one file as fast as it can, and an executor whose function loads lag a few versions behind
 * it (as a busier or farther one does). Shared by the endpoint, gateway and CLI tests of it.
 */
import type { Drive } from '../../src/core/drive/index.ts'

/** `n` bytes that differ with `seed`: every version of the file has bytes of its own. */
export const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed) % 256)

export class RacingWriter {
  /** true from {@link start} to {@link stop}: the lag waits only while the race runs */
  writing = false
  /** versions written since {@link start} */
  written = 0
  readonly #drive: Drive
  readonly #maxWrites: number
  #loop: Promise<void> = Promise.resolve()

  /** `maxWrites` bounds the loop whatever the calls take. */
  constructor (drive: Drive, maxWrites: number) {
    this.#drive = drive
    this.#maxWrites = maxWrites
  }

  /** Writes `/data/blob` anew (1-7 KiB), one turn of the event loop per version, until {@link stop}. */
  start (): void {
    this.writing = true
    this.#loop = (async () => {
      for (let i = 1; i <= this.#maxWrites && this.writing; i++) {
        await this.#drive.put('/data/blob', [pattern(1024 + (i % 97) * 64, i)])
        this.written++
        // the executors and the caller may share this process
        await new Promise(resolve => setImmediate(resolve))
      }
    })()
  }

  async stop (): Promise<void> {
    this.writing = false
    await this.#loop
  }

  /** Waits (bounded: 400 × 5 ms) until the writer wrote `behind` more versions, while the race runs. */
  async lag (behind: number): Promise<void> {
    const from = this.#drive.version
    for (let i = 0; i < 400 && this.writing && this.#drive.version < from + behind; i++) await new Promise(resolve => setTimeout(resolve, 5))
  }
}
