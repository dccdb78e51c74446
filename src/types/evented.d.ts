// The EventEmitter surface the Holepunch classes expose, without pulling Node's types into
// code that must also type-check for browsers and workers.
declare interface ShadwEvented {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- listener arity differs per event
  on (event: string, listener: (...args: any[]) => void): this
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  once (event: string, listener: (...args: any[]) => void): this
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off (event: string, listener: (...args: any[]) => void): this
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  removeListener (event: string, listener: (...args: any[]) => void): this
}
