import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { Drive, loadMount, mergeMounts, pinMounts, type PinnedMount } from '../../../../src/core/drive/index.ts'
import type { TreeEntry } from '../../../../src/core/sandbox/index.ts'
import { testNode, testnet } from '../../../helpers/testnet.ts'

const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) % 251)

function file (tree: TreeEntry, ...names: string[]): Uint8Array {
  let t = tree
  for (const n of names) {
    if (t.kind !== 'dir') throw new Error(`${n}: not a folder`)
    t = t.entries[n] as TreeEntry
  }
  if (t?.kind !== 'file') throw new Error('not a file')
  return t.data
}

describe('drive mounts between real nodes on a local testnet', () => {
  it('pins "latest" to a version, loads a folder at that version, and moves about the bytes it mounts, not the drive', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const { drive } = await Drive.create(writer)
    const big = pattern(4 * 1024 * 1024, 1)
    await drive.put('/big/blob', [big.subarray(0, 2 * 1024 * 1024), big.subarray(2 * 1024 * 1024)])
    const small = pattern(4096, 2)
    await drive.put('/small/blob', [small])
    const v1 = (await drive.put('/small/sub/note.txt', [b4a.from('note')])).version

    const reader = await testNode(net)
    const remote = await Drive.open(reader, drive.key)
    const open = async (): Promise<Drive> => remote
    const [pinned] = await pinMounts(open, [{ drive: drive.key, version: 'latest', path: '/data', from: '/small' }])
    expect(pinned).toEqual({ drive: drive.key, version: v1, path: '/data', from: '/small' })

    const before = remote.bytesFetched
    const preopen = await loadMount(remote, pinned as PinnedMount)
    const moved = remote.bytesFetched - before
    expect(preopen.guest).toBe('/data')
    expect(file(preopen.tree, 'blob')).toEqual(small)
    expect(b4a.toString(file(preopen.tree, 'sub', 'note.txt'))).toBe('note')
    console.log(`mount of a 4 KiB folder of a 4 MiB drive: ${moved} bytes fetched (entry log and blob blocks)`)
    // the 4 KiB file and the entry log's index blocks, never the 4 MiB beside it
    expect(moved).toBeGreaterThanOrEqual(4096)
    expect(moved).toBeLessThan(64 * 1024)

    // a new version: the pinned one still reads the old bytes, "latest" pins the new one
    const v2 = (await drive.put('/small/blob', [b4a.from('changed')])).version
    const old = await loadMount(remote, pinned as PinnedMount)
    expect(file(old.tree, 'blob')).toEqual(small)
    // "latest" is the newest version the peers announced by the time the caller asks
    let again: PinnedMount | undefined
    for (let i = 0; i < 100 && again?.version !== v2; i++) {
      if (i > 0) await new Promise(resolve => setTimeout(resolve, 50))
      ;[again] = await pinMounts(open, [{ drive: drive.key, version: 'latest', path: '/data', from: '/small' }])
    }
    expect(again?.version).toBe(v2)
    expect(b4a.toString(file((await loadMount(remote, again as PinnedMount)).tree, 'blob'))).toBe('changed')

    // typed errors: a version nobody has, a file named as a folder
    await expect(loadMount(remote, { drive: drive.key, version: v2 + 10, path: '/data' })).rejects.toMatchObject({ code: 'DRIVE_NOT_FOUND' })
    await expect(loadMount(remote, { drive: drive.key, version: v2, path: '/data', from: '/small/blob' })).rejects.toMatchObject({ code: 'MOUNT_INVALID' })
    await remote.close()
    await drive.close()
  }, 120_000)

  it('the executor checks the caller\'s pins against the manifest', async () => {
    const key = 'ab'.repeat(32)
    const other = 'cd'.repeat(32)
    const latest = async (): Promise<number> => 9
    // a pinned manifest version must be the one asked for; a "latest" takes the caller's pin
    await expect(mergeMounts([{ drive: key, version: 3, path: '/d' }], [{ drive: key, version: 4, path: '/d' }], latest)).rejects.toMatchObject({ code: 'MOUNT_INVALID' })
    await expect(mergeMounts([{ drive: key, version: 'latest', path: '/d' }], [{ drive: other, version: 4, path: '/d' }], latest)).rejects.toMatchObject({ code: 'MOUNT_INVALID' })
    expect(await mergeMounts([{ drive: key, version: 'latest', path: '/d' }], [{ drive: key, version: 4, path: '/d' }, { drive: other, version: 2, path: '/t' }], latest))
      .toEqual([{ drive: key, version: 4, path: '/d' }, { drive: other, version: 2, path: '/t' }])
    // an old caller that pinned nothing: the executor pins "latest" itself
    expect(await mergeMounts([{ drive: key, version: 'latest', path: '/d' }], [], latest)).toEqual([{ drive: key, version: 9, path: '/d' }])
  })

  it('a private drive mounts only with its key (DRIVE_LOCKED without it)', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const { drive, encryptionKey } = await Drive.create(writer, { encrypt: true })
    const v = (await drive.put('/data/secret.txt', [b4a.from('secret')])).version
    const reader = await testNode(net)
    const locked = await Drive.open(reader, drive.key)
    await expect(loadMount(locked, { drive: drive.key, version: v, path: '/in' })).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
    await locked.close()
    const other = await testNode(net)
    const ok = await Drive.open(other, drive.key, { encryptionKey: encryptionKey as Uint8Array })
    expect(b4a.toString(file((await loadMount(ok, { drive: drive.key, version: v, path: '/in', from: '/data' })).tree, 'secret.txt'))).toBe('secret')
    await ok.close()
    await drive.close()
  }, 120_000)
})
