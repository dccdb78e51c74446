import { open, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { Drive } from '../../../../src/core/drive/index.ts'
import { tempDir } from '../../../helpers/super-node.ts'
import { testNode, testnet } from '../../../helpers/testnet.ts'

const MARKER = 'GOOD-BYTES-0123456789'

async function readAll (it: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const c of it) parts.push(c)
  return b4a.toString(b4a.concat(parts))
}

/** Overwrites every copy of MARKER in the files under `dir`; returns how many it changed. */
async function tamper (dir: string): Promise<number> {
  let changed = 0
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const path = join(e.parentPath, e.name)
    const bytes = await readFile(path)
    let at = bytes.indexOf(MARKER)
    if (at === -1) continue
    const fh = await open(path, 'r+')
    try {
      while (at !== -1) {
        await fh.write(Buffer.from('EVIL'.padEnd(MARKER.length, '!')), 0, MARKER.length, at)
        changed++
        at = bytes.indexOf(MARKER, at + 1)
      }
    } finally {
      await fh.close()
    }
  }
  return changed
}

describe('Drive with a tampered holder', () => {
  it('refuses blocks a holder altered on disk and gets the good copy from another holder', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const badDir = await tempDir()
    const goodDir = await tempDir()
    const bad = await testNode(net, { storage: badDir })
    const good = await testNode(net, { storage: goodDir })
    const { drive } = await Drive.create(writer)
    const content = MARKER.repeat(10_000)
    await drive.put('/file.txt', [b4a.from(content)])
    for (const holder of [bad, good]) {
      const held = await Drive.open(holder, drive.key)
      await held.download()
      await held.close()
    }
    const version = drive.version
    await drive.close()
    await writer.stop()
    await good.stop()
    expect(await tamper(badDir)).toBeGreaterThan(0)

    // only the tampered holder is up: its blocks fail Hypercore's Merkle check and are
    // refused, so the read fails rather than yield altered bytes
    const reader = await testNode(net)
    const remote = await Drive.open(reader, drive.key, { timeoutMs: 5_000 })
    expect(remote.version).toBe(version)
    const refused = await readAll(remote.read('/file.txt')).then(text => ({ text }), (err: unknown) => ({ err }))
    expect(refused).toMatchObject({ err: { code: 'DRIVE_NOT_FOUND' } })

    // the good holder comes back: the same read completes, byte for byte
    await testNode(net, { storage: goodDir })
    expect(await readAll(remote.read('/file.txt'))).toBe(content)
    await remote.close()
  }, 120_000)
})
