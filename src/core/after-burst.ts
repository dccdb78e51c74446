/**
 * Runs `fn` once the events already due have run: in Node after this turn of the event loop
 * (`setImmediate`: results a worker sent together arrive as separate messages in one turn,
 * and a ledger append on memory storage completes within microtasks, so a microtask would
 * commit them one by one); elsewhere after the current microtasks.
 */
export const afterBurst: (fn: () => void) => void = (() => {
  const immediate = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate
  return immediate === undefined ? queueMicrotask : (fn: () => void) => { immediate(fn) }
})()
