/**
 * The names the browser executor gives its Dedicated Workers (`self.name` inside one), in a
 * module of their own: the worker entry reads them without importing the pool, whose
 * `new Worker(new URL(...))` of that entry must not end up in the entry's own bundle.
 */

/** An executor worker the pool starts with: it warms up (core/sandbox/warm-up.ts). */
export const EXECUTOR_WORKER_NAME = 'shadw-executor'

/**
 * One started again after the pool stopped its predecessor (a deadline, a memory cap): it
 * skips the warm-up, so a function that gets its workers killed does not make the tab pay the
 * warm-up's CPU each time; the tab's first start already paid it for the first call.
 */
export const RESPAWNED_WORKER_NAME = 'shadw-executor-respawned'
