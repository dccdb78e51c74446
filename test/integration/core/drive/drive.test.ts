import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { Drive, driveLogs } from '../../../../src/core/drive/index.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { tempDir } from '../../../helpers/super-node.ts'
import { testNode, testnet } from '../../../helpers/testnet.ts'

const text = (s: string): Uint8Array[] => [b4a.from(s)]

async function readAll (it: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const c of it) parts.push(c)
  return b4a.toString(b4a.concat(parts))
}

async function filesUnder (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) out.push(join(e.parentPath, e.name))
  return out
}

describe('Drive between real nodes on a local testnet', () => {
  it('replicates files and folders; every version stays readable as it was', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const reader = await testNode(net)
    const { drive, keyPair, encryptionKey } = await Drive.create(writer)
    expect(encryptionKey).toBeNull()
    expect(drive.key).toBe(b4a.toString(keyPair.publicKey, 'hex'))
    const v1 = await drive.put('notes/a.txt', text('first'))
    await drive.put('/notes/sub/b.txt', text('bee'))
    await drive.put('/top.txt', text('top'))
    const v4 = await drive.put('/notes/a.txt', text('second'))
    expect(v4.version).toBeGreaterThan(v1.version)

    const remote = await Drive.open(reader, drive.key)
    expect(remote.writable).toBe(false)
    expect(remote.version).toBe(drive.version)
    expect(await readAll(remote.read('/notes/a.txt'))).toBe('second')
    expect(await readAll(remote.read('/notes/a.txt', { version: v1.version }))).toBe('first')
    expect(await readAll(remote.read('/top.txt', { start: 1, end: 2 }))).toBe('op')
    expect((await remote.list('/')).map(e => [e.path, e.kind])).toEqual([['/notes', 'dir'], ['/top.txt', 'file']])
    expect((await remote.list('/notes')).map(e => [e.path, e.kind, e.size])).toEqual([['/notes/a.txt', 'file', 6], ['/notes/sub', 'dir', 0]])
    expect((await remote.list('/notes', { version: v1.version })).map(e => e.path)).toEqual(['/notes/a.txt'])

    // both sides name the same logs with the same Merkle roots, at any version they hold
    await remote.download()
    expect(await driveLogs(remote, v1.version)).toEqual(await driveLogs(drive, v1.version))
    const logs = await remote.logs()
    expect(logs).toHaveLength(2)
    expect(logs[0]).toMatchObject({ key: drive.key, length: drive.version })

    // typed errors for what is not there or not well-formed
    await expect(readAll(remote.read('/nope.txt'))).rejects.toMatchObject({ code: 'DRIVE_NOT_FOUND' })
    await expect(readAll(remote.read('/top.txt', { start: 2, end: 5 }))).rejects.toMatchObject({ code: 'DRIVE_RANGE_INVALID' })
    await expect(readAll(remote.read('/../etc/passwd'))).rejects.toMatchObject({ code: 'DRIVE_PATH_INVALID' })
    await expect(remote.list('/missing')).rejects.toMatchObject({ code: 'DRIVE_NOT_FOUND' })
    await expect(readAll(remote.read('/top.txt', { version: drive.version + 5 }))).rejects.toMatchObject({ code: 'DRIVE_NOT_FOUND' })
    await expect(remote.put('/x', text('x'))).rejects.toBeInstanceOf(ShadwError)
    await expect(Drive.open(reader, 'zz')).rejects.toMatchObject({ code: 'INVALID_DRIVE_REF' })

    // the owner's key pair reopens the drive writable over the storage it was written with
    await drive.close()
    await remote.close()
    const again = await Drive.open(writer, keyPair)
    expect(again.writable).toBe(true)
    await again.put('/more.txt', text('more'))
    expect(await readAll(again.read('/more.txt'))).toBe('more')
    await again.close()
  })

  it('an encrypted drive leaves only ciphertext with a holder; no key or a wrong key reads as DRIVE_LOCKED', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const holderDir = await tempDir()
    const holder = await testNode(net, { storage: holderDir })
    const reader = await testNode(net)
    const { drive, encryptionKey } = await Drive.create(writer, { encrypt: true })
    expect(encryptionKey).toHaveLength(32)
    const marker = 'PLAINTEXT-MARKER-7f3a9c'
    await drive.put('/secret-name-marker.txt', text(marker.repeat(2000)))

    // the holder has no encryption key: it holds the logs the owner names, by key, every
    // block as it came, and reaches the same Merkle roots; as a drive it reads nothing
    const owned = await drive.logs()
    for (const log of owned) {
      await holder.follow(log.key)
      await holder.waitForLength(log.key, log.length, 20_000)
      await holder.download(log.key, { start: 0, end: log.length }, { timeout: 20_000 })
      const core = holder.session(log.key)
      expect(b4a.toString(await core.treeHash(log.length), 'hex')).toBe(log.treeHash)
      await core.close()
    }
    const locked = await Drive.open(holder, drive.key).catch((err: unknown) => err)
    if (locked instanceof Drive) {
      await expect(locked.list('/')).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
      await locked.close()
    } else {
      expect(locked).toMatchObject({ code: 'DRIVE_LOCKED' })
    }
    const files = await filesUnder(holderDir)
    expect(files.length).toBeGreaterThan(0)
    let stored = 0
    for (const f of files) {
      const bytes = await readFile(f)
      stored += bytes.byteLength
      expect(bytes.includes('PLAINTEXT-MARKER')).toBe(false)
      expect(bytes.includes('secret-name-marker')).toBe(false)
    }
    expect(stored).toBeGreaterThan(marker.length * 2000)

    // with the key the bytes come back; with the wrong key they do not
    const ok = await Drive.open(reader, drive.key, { encryptionKey })
    expect(await readAll(ok.read('/secret-name-marker.txt'))).toBe(marker.repeat(2000))
    await ok.close()
    const other = await testNode(net)
    const wrong = await Drive.open(other, drive.key, { encryptionKey: new Uint8Array(32).fill(7) })
    await expect(readAll(wrong.read('/secret-name-marker.txt'))).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
    await wrong.close()
    await drive.close()
  })
})
