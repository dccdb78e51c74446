/**
 * CPU time of each thread of this process (Linux: /proc/self/task/<tid>/schedstat, ns of run
 * time, and comm, the thread's name), for the benches' per-thread breakdowns: a process's
 * CPU time alone does not say whether it is the main thread, a worker, V8's compiler or GC
 * helpers, or libuv's pool. Empty on other systems.
 */
import { readdirSync, readFileSync } from 'node:fs'

export type ThreadTimes = Map<string, number>

/** Run time so far of each thread, ns, keyed `<name>:<tid>`; the main thread's name is `main` (Node leaves its threads' names as the process's). */
export function threadTimes (): ThreadTimes {
  const out: ThreadTimes = new Map()
  let tids: string[]
  try { tids = readdirSync('/proc/self/task') } catch { return out }
  for (const tid of tids) {
    try {
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0])
      const name = tid === String(process.pid) ? 'main' : readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()
      out.set(`${name}:${tid}`, ns)
    } catch {}
  }
  return out
}

/** µs per call of each thread between two readings (`<name>:<tid>`), largest first; threads under 1 µs per call left out. */
export function threadDelta (before: ThreadTimes, after: ThreadTimes, calls: number): Record<string, number> {
  const byName = new Map<string, number>()
  for (const [key, ns] of after) byName.set(key.startsWith('main:') ? 'main' : key, ns - (before.get(key) ?? 0))
  return Object.fromEntries([...byName].filter(([, ns]) => ns / 1000 / Math.max(1, calls) >= 1).sort((a, b) => b[1] - a[1]).map(([n, ns]) => [n, Math.round(ns / 1000 / Math.max(1, calls) * 10) / 10]))
}
