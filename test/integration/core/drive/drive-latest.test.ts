import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { Drive } from '../../../../src/core/drive/index.ts'
import { keyedNode } from '../../../helpers/holders.ts'
import { tempDir } from '../../../helpers/super-node.ts'
import { testnet } from '../../../helpers/testnet.ts'

async function text (drive: Drive, path: string): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const chunk of drive.read(path)) parts.push(chunk)
  return b4a.toString(b4a.concat(parts))
}

describe('a drive opened right after a put', () => {
  it('reads the latest version a holder has, not the older one its reader stored, the uploader gone', async () => {
    const net = await testnet()
    const holder = await keyedNode(net)
    const owner = await keyedNode(net, { tier: 'light' })
    const { drive } = await Drive.create(owner.node)
    const held = await Drive.open(holder.node, drive.key)
    const readerDir = await tempDir()
    for (let round = 1; round <= 6; round++) {
      const { version } = await drive.put('/notes.txt', [b4a.from(`version ${round}`)])
      // the holder has the new version whole before the reader looks
      for (let i = 0; i < 100 && held.version < version; i++) await new Promise(resolve => setTimeout(resolve, 50))
      expect(held.version).toBe(version)
      await held.download()
      // a fresh reader process: its own storage, holding the previous round's version
      if (round === 6) await owner.stop()
      const reader = await keyedNode(net, { tier: 'light', storage: readerDir })
      const got = await Drive.open(reader.node, drive.key)
      expect(got.version).toBe(version)
      expect(await text(got, '/notes.txt')).toBe(`version ${round}`)
      await got.close()
      await reader.stop()
    }
  })

  it('a second and third handle on a node where the drive is open (writable, keyless, read-only elsewhere) open and read without waiting on each other', async () => {
    const net = await testnet()
    const owner = await keyedNode(net, { tier: 'light' })
    const { drive, keyPair } = await Drive.create(owner.node)
    await drive.put('/a.txt', [b4a.from('one')])
    const reader = await keyedNode(net, { tier: 'light' })
    const first = await Drive.open(reader.node, drive.key)
    expect(await text(first, '/a.txt')).toBe('one')
    for (let i = 0; i < 5; i++) {
      const [again, mine] = await Promise.all([Drive.open(reader.node, drive.key, { timeoutMs: 5_000 }), Drive.open(owner.node, keyPair, { timeoutMs: 5_000 })])
      expect(await text(again, '/a.txt')).toBe('one')
      expect(await text(mine, '/a.txt')).toBe('one')
      await Promise.all([again.close(), mine.close()])
    }
    expect(await text(first, '/a.txt')).toBe('one')
    await first.close()
  })
})
