/**
 * simple-peer 9 runs on readable-stream 3, which calls `process.nextTick` (a Node global that
 * browsers lack and Vite does not polyfill). A microtask has the ordering nextTick promises.
 * Imported before simple-peer; leaves a real `process` alone.
 */
const g = globalThis as { process?: { nextTick?: unknown, env?: unknown, browser?: boolean } }
g.process ??= {}
g.process.env ??= {}
g.process.browser ??= true
g.process.nextTick ??= (fn: (...args: unknown[]) => void, ...args: unknown[]): void => { queueMicrotask(() => { fn(...args) }) }

export {}
