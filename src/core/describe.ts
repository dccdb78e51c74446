/** Longest description of a foreign value put into an error message. */
export const MAX_DESCRIBE_CHARS = 80

/**
 * Describes a value that came from outside (a peer, another tab, a file) for an error
 * message, without running any of its code: `String(value)` calls the value's own
 * `toString`/`Symbol.toPrimitive`, which structured clone and JSON happily deliver as
 * non-functions or as throwing getters, so a refusal would itself throw a TypeError.
 */
export function describeValue (value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > MAX_DESCRIBE_CHARS ? value.slice(0, MAX_DESCRIBE_CHARS) + '…' : value)
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value)
    case 'symbol':
      return 'a symbol'
    case 'function':
      return 'a function'
    default:
      if (value === null) return 'null'
      if (Array.isArray(value)) return `an array of ${value.length}`
      if (value instanceof Uint8Array) return `${value.byteLength} bytes`
      return 'an object'
  }
}
