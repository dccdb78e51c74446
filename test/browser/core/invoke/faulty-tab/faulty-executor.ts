/**
 * Faults a test wraps a contributor tab's executor in: a liar (every output byte flipped)
 * and a holder (never answers; rejects only when its call is cancelled). Wraps our own
 * Executor interface around the tab's real Web Worker pool.
 */
import { ShadwError } from '../../../../../src/core/errors.ts'
import type { ExecuteCall, ExecuteOptions, ExecuteResult, Executor } from '../../../../../src/core/sandbox/index.ts'

/** The faults a test page can ask for. */
export type Fault = 'lie' | 'hold'

/** Reads a fault name; anything else is a broken test page. */
export function parseFault (value: unknown): Fault {
  if (value === 'lie' || value === 'hold') return value
  throw ShadwError.INVALID_ARGUMENT(`unknown fault ${String(value)}`)
}

/** `inner` with `fault`; closing it closes `inner`. */
export class FaultyExecutor implements Executor {
  readonly #inner: Executor
  readonly #fault: Fault

  constructor (inner: Executor, fault: Fault) {
    this.#inner = inner
    this.#fault = fault
  }

  get size (): number { return this.#inner.size }

  async execute (call: ExecuteCall, options?: ExecuteOptions): Promise<ExecuteResult> {
    if (this.#fault === 'hold') {
      return await new Promise<never>((_resolve, reject) => {
        options?.signal?.addEventListener('abort', () => { reject(ShadwError.ABORTED('held call cancelled')) }, { once: true })
      })
    }
    const result = await this.#inner.execute(call, options)
    return { ...result, output: result.output.map(b => b ^ 0xff) }
  }

  async close (): Promise<void> { await this.#inner.close() }
}
