import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'

/** Every file under `dir`, relative, recursively. */
async function files (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(join(e.parentPath, e.name))
  return out
}

describe('publishers nobody serves', () => {
  it('are neither followed, nor kept in the store, nor re-joined after a restart', async () => {
    const storage = await tempDir()
    const node = await startSuperNode({ storage, workers: 1 })
    const before = node.status()
    const ghosts = Array.from({ length: 3 }, () => b4a.toString(crypto.randomBytes(32), 'hex'))
    for (const ghost of ghosts) {
      const res = await fetch(new URL(`/fn/${ghost}/ghost@1.0.0`, node.info.appUrl), { method: 'POST', body: 'x', headers: { 'shadw-deadline': '1500' } })
      expect(res.status).toBeGreaterThanOrEqual(400)
    }
    const discovery = ghosts.map(g => b4a.toString(crypto.discoveryKey(b4a.from(g, 'hex')), 'hex'))
    // the failed lookups are forgotten a moment after their callers gave up
    const deadline = Date.now() + 10_000
    const lingering = (): boolean => node.status().logs.some(l => ghosts.includes(l.key)) || node.status().topics.some(t => discovery.includes(t))
    while (lingering() && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 100))
    const after = node.status()
    expect(after.logs.map(l => l.key).filter(k => ghosts.includes(k))).toEqual([])
    expect(after.topics.filter(t => discovery.includes(t))).toEqual([])
    expect(after.logs.length).toBe(before.logs.length)
    // nothing of them on disk: Corestore keeps a core's files under its discovery key
    expect((await files(storage)).filter(f => discovery.some(d => f.includes(d)))).toEqual([])
    await node.stop()

    const again = await startSuperNode({ storage, workers: 1 })
    expect(again.status().logs.map(l => l.key).filter(k => ghosts.includes(k))).toEqual([])
    expect(again.status().topics.filter(t => discovery.includes(t))).toEqual([])
  }, 60_000)
})
