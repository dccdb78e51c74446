/**
 * A tiny harness for fault drills: each drill is a script that prints every check it makes
 * (what, expected, got) and ends with PASS or FAIL; `run.ts` runs them all.
 */

/** One drill's checks and their outcome. */
export class Drill {
  readonly name: string
  #failed = 0
  #checks = 0
  readonly #started = performance.now()

  constructor (name: string) {
    this.name = name
    console.log(`drill: ${name}`)
  }

  /** Records a check; prints it; never throws (the drill goes on to show the rest). */
  check (what: string, ok: boolean, detail = ''): boolean {
    this.#checks++
    if (!ok) this.#failed++
    console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${what}${detail === '' ? '' : ` (${detail})`}`)
    return ok
  }

  /** Prints a step that is not a check. */
  step (what: string): void {
    console.log(`  ..   ${what}`)
  }

  /** Prints the verdict; exit code 0 on pass. */
  finish (): number {
    const s = ((performance.now() - this.#started) / 1000).toFixed(1)
    console.log(`${this.#failed === 0 ? 'PASS' : 'FAIL'} ${this.name}: ${this.#checks - this.#failed}/${this.#checks} checks in ${s} s`)
    return this.#failed === 0 ? 0 : 1
  }
}

/** Rejects after `ms` with a message naming `what`. */
export async function within<T> (p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what}: nothing within ${ms} ms`)) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

/** Polls `fn` until true or `ms` pass; resolves to whether it became true. */
export async function eventually (fn: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await fn()) return true
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return await fn()
}
