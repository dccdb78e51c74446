// Minimal types for compact-encoding 2, as shadw uses it.
declare module 'compact-encoding' {
  export interface State { start: number, end: number, buffer: Uint8Array | null }
  export interface Encoding<T> {
    preencode (state: State, value: T): void
    encode (state: State, value: T): void
    decode (state: State): T
  }
  export function state (start?: number, end?: number, buffer?: Uint8Array | null): State
  export function encode<T> (enc: Encoding<T>, value: T): Uint8Array
  export function decode<T> (enc: Encoding<T>, buffer: Uint8Array): T
  export const uint: Encoding<number>
  export const uint8: Encoding<number>
  export const string: Encoding<string>
  export const buffer: Encoding<Uint8Array | null>
  export const fixed32: Encoding<Uint8Array>
  export const fixed64: Encoding<Uint8Array>
  /** the rest of the message as bytes; never fails to decode */
  export const raw: Encoding<Uint8Array>
  const c: {
    state: typeof state,
    encode: typeof encode,
    decode: typeof decode,
    uint: Encoding<number>,
    uint8: Encoding<number>,
    string: Encoding<string>,
    buffer: Encoding<Uint8Array | null>,
    fixed32: Encoding<Uint8Array>,
    fixed64: Encoding<Uint8Array>,
    raw: Encoding<Uint8Array>
  }
  export default c
}
