/**
 * An in-process V8 CPU profile of one phase (node --cpu-prof covers a whole process, and the
 * writer's process also builds the app and writes the logs). Written as a .cpuprofile file
 * that Chrome DevTools opens.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'
import type { CDPSession } from 'playwright-core'

export async function startWriterProfile (name = 'writer'): Promise<{ stop: (dir: string) => Promise<void> }> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  return {
    stop: async (dir: string) => {
      const { profile } = await session.post('Profiler.stop')
      session.disconnect()
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, `${name}-${Date.now()}.cpuprofile`), JSON.stringify(profile))
    }
  }
}

/**
 * CPU profiles of a page's workers (the app's node worker is where a browser download
 * runs). Playwright opens CDP sessions on pages only, so each worker is reached through the
 * page's session: auto-attach (non-flat), and Profiler commands wrapped in
 * Target.sendMessageToTarget. Call before the page loads, so the workers are caught as they
 * start; `stop` writes one .cpuprofile per worker that was still running.
 */
export async function startWorkerProfiles (cdp: CDPSession): Promise<{ stop: (dir: string) => Promise<void> }> {
  const p = await attachWorkerProfiles(cdp, true)
  return { stop: p.stop }
}

/**
 * As {@link startWorkerProfiles}, but the profilers start only on `start()` (and with
 * `now`, at once): a phase of a long bench, with the workers caught as they start. The page's
 * own main thread is profiled too.
 */
export async function attachWorkerProfiles (cdp: CDPSession, now = false): Promise<{ start: () => Promise<void>, stop: (dir: string) => Promise<void> }> {
  const workers = new Map<string, string>()
  const pending = new Map<number, (result: unknown) => void>()
  let nextId = 1
  const send = async (sessionId: string, method: string): Promise<unknown> => {
    const id = nextId++
    const reply = new Promise<unknown>(resolve => pending.set(id, resolve))
    await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) })
    return await reply
  }
  cdp.on('Target.receivedMessageFromTarget', e => {
    const msg = JSON.parse(e.message) as { id?: number, result?: unknown }
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result)
  })
  let started = now
  cdp.on('Target.attachedToTarget', e => {
    if (e.targetInfo.type !== 'worker') return
    workers.set(e.sessionId, e.targetInfo.url)
    void send(e.sessionId, 'Profiler.enable').then(async () => { if (started) await send(e.sessionId, 'Profiler.start') })
  })
  cdp.on('Target.detachedFromTarget', e => { if (e.sessionId !== undefined) workers.delete(e.sessionId) })
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false })
  await cdp.send('Profiler.enable')
  if (now) await cdp.send('Profiler.start')
  return {
    start: async () => {
      started = true
      await cdp.send('Profiler.start')
      for (const sessionId of workers.keys()) await send(sessionId, 'Profiler.start')
    },
    stop: async (dir: string) => {
      mkdirSync(dir, { recursive: true })
      const page = await cdp.send('Profiler.stop')
      writeFileSync(join(dir, `page-${Date.now()}.cpuprofile`), JSON.stringify(page.profile))
      for (const [sessionId, url] of workers) {
        const result = await send(sessionId, 'Profiler.stop') as { profile?: unknown } | undefined
        if (result?.profile === undefined) continue
        const name = url.replace(/^.*\//, '').replace(/[^a-zA-Z0-9.-]/g, '_') || 'worker'
        writeFileSync(join(dir, `${name}-${Date.now()}.cpuprofile`), JSON.stringify(result.profile))
      }
    }
  }
}
