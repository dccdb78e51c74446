/**
 * A small typed event emitter. The core stays free of Node's `events` so it bundles for
 * workers without a polyfill, and listeners get checked argument types.
 */
type Listener = (...args: unknown[]) => void

export class Emitter<Events extends Record<string, unknown[]>> {
  // listeners are stored untyped; `on` and `emit` are the typed doors in and out
  readonly #listeners = new Map<keyof Events, Set<Listener>>()

  /** Subscribes; returns the function that unsubscribes. */
  on<K extends keyof Events> (event: K, listener: (...args: Events[K]) => void): () => void {
    let set = this.#listeners.get(event)
    if (set === undefined) {
      set = new Set()
      this.#listeners.set(event, set)
    }
    set.add(listener as Listener)
    return () => { set.delete(listener as Listener) }
  }

  protected emit<K extends keyof Events> (event: K, ...args: Events[K]): void {
    const set = this.#listeners.get(event)
    if (set === undefined) return
    for (const listener of [...set]) listener(...args)
  }
}
