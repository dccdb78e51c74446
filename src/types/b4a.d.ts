// Minimal types for b4a (Buffer-or-Uint8Array helpers shared by the Holepunch stack).
declare module 'b4a' {
  export function from (input: string, encoding?: 'hex' | 'utf8' | 'base64'): Uint8Array
  export function from (input: ArrayLike<number> | ArrayBuffer): Uint8Array
  /** a view of `length` bytes of `input` from `offset` (a Buffer in Node), no copy */
  export function from (input: ArrayBufferLike, offset: number, length: number): Uint8Array
  export function toString (buf: Uint8Array, encoding?: 'hex' | 'utf8' | 'base64', start?: number, end?: number): string
  export function alloc (size: number, fill?: number): Uint8Array
  export function allocUnsafe (size: number): Uint8Array
  export function equals (a: Uint8Array, b: Uint8Array): boolean
  export function isBuffer (value: unknown): value is Uint8Array
  export function concat (list: Uint8Array[]): Uint8Array
  export function byteLength (s: string): number
  const b4a: {
    from: typeof from,
    toString: typeof toString,
    alloc: typeof alloc,
    allocUnsafe: typeof allocUnsafe,
    equals: typeof equals,
    isBuffer: typeof isBuffer,
    concat: typeof concat,
    byteLength: typeof byteLength
  }
  export default b4a
}
