/**
 * An in-process V8 CPU profile of one phase (node --cpu-prof covers a whole process, and the
 * writer's process also builds the app and writes the logs). Written as a .cpuprofile file
 * that Chrome DevTools opens.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'

export async function startWriterProfile (): Promise<{ stop: (dir: string) => Promise<void> }> {
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  return {
    stop: async (dir: string) => {
      const { profile } = await session.post('Profiler.stop')
      session.disconnect()
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, `writer-${Date.now()}.cpuprofile`), JSON.stringify(profile))
    }
  }
}
