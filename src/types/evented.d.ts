// The EventEmitter surface the Holepunch classes expose, without pulling Node's types into
// code that must also type-check for browsers and workers.
declare interface ShadwEvented {
  on (event: string, listener: (...args: never[]) => void): this
  once (event: string, listener: (...args: never[]) => void): this
  off (event: string, listener: (...args: never[]) => void): this
  removeListener (event: string, listener: (...args: never[]) => void): this
}
