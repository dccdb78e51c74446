/**
 * Compact-encoding in two passes: a record's fields are written by one function, called
 * first to measure (`preencode`) and then to write (`encode`) into one buffer of exactly the
 * measured size. Every record and message we encode by hand goes through here, so the
 * measuring pass and the writing pass cannot drift apart.
 */
import c, { type Encoding, type State } from 'compact-encoding'

/** Writes a record's fields; called twice, `pre` true to measure and false to write. */
export type FieldWriter = (s: State, pre: boolean) => void

/**
 * Writes `v` with `codec` (`c.uint`, `c.string`, `c.fixed32`, …) in the pass `pre` names.
 * Module-level rather than a closure per record: receipts and invocation frames are encoded
 * on every call.
 */
export function put<T> (s: State, pre: boolean, codec: Encoding<T>, v: T): void {
  if (pre) codec.preencode(s, v)
  else codec.encode(s, v)
}

/**
 * Encodes what `write` writes, into a plain `Uint8Array` on every runtime (never a Node
 * `Buffer`): what decodes from it is the same type in Node as in a browser. With `tail`, that
 * many zero bytes are allocated after the encoding, in the same buffer, for the caller to
 * fill in place (a batch-signed receipt's proof); the result views the encoding only.
 *
 * @example
 * ```ts
 * const bytes = encodeFields((s, pre) => {
 *   put(s, pre, c.uint, span.start)
 *   put(s, pre, c.uint, span.length)
 * })
 * ```
 */
export function encodeFields (write: FieldWriter, tail = 0): Uint8Array {
  return encodeWith(callWriter, write, tail)
}

/**
 * {@link encodeFields} for a module-level writer of one value (`write(s, value, pre)`): a
 * hot path (every invocation frame) encodes without making a closure per record.
 */
export function encodeWith<T> (write: (s: State, value: T, pre: boolean) => void, value: T, tail = 0): Uint8Array {
  const s = c.state()
  write(s, value, true)
  s.buffer = new Uint8Array(s.end + tail)
  s.start = 0
  write(s, value, false)
  return tail === 0 ? s.buffer : s.buffer.subarray(0, s.end)
}

function callWriter (s: State, write: FieldWriter, pre: boolean): void {
  write(s, pre)
}
