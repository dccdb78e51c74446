/**
 * Makes errors keep their `code` across comlink.
 *
 * comlink serializes a thrown Error as name, message and stack only, so a worker's
 * FUEL_EXHAUSTED would arrive as a bare Error. We replace comlink's `throw` transfer handler
 * (keeping its `canHandle`, which recognises comlink's private thrown-value marker) with one
 * that sends {@link serializeError} and rebuilds with {@link deserializeError}. Both the pool
 * and the worker must call {@link installErrorTransfer}.
 */
import { transferHandlers, type TransferHandler } from 'comlink'
import { deserializeError, serializeError, type SerializedError } from '../../core/errors.ts'

let installed = false

/** Installs the code-preserving `throw` handler; idempotent. */
export function installErrorTransfer (): void {
  if (installed) return
  const original = transferHandlers.get('throw')
  if (original === undefined) throw new Error('comlink has no throw handler to replace')
  const handler: TransferHandler<{ value: unknown }, { shadwError: SerializedError }> = {
    canHandle: (v: unknown): v is { value: unknown } => original.canHandle(v),
    serialize: ({ value }) => [{ shadwError: serializeError(value) }, []],
    deserialize: (s) => { throw deserializeError(s.shadwError) }
  }
  transferHandlers.set('throw', handler as TransferHandler<unknown, unknown>)
  installed = true
}
