import { describe, expect, it } from 'vitest'
import { decodeManifest, encodeManifest, MANIFEST_VERSION } from '../../../../src/core/registry/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { manifestFor, publisher } from './helpers.ts'

describe('manifest mounts', () => {
  it('a manifest with mounts is body version 4 and round-trips; without them it keeps its old version', async () => {
    const p = publisher()
    const plain = await manifestFor(await wat('echo'), p.hex)
    expect(encodeManifest(plain)[0]).toBeLessThanOrEqual(MANIFEST_VERSION)
    const m = { ...plain, mounts: [{ drive: 'ab'.repeat(32), version: 'latest' as const, path: '/data', from: '/models' }, { drive: 'cd'.repeat(32), version: 5, path: '/etc/conf' }] }
    const body = encodeManifest(m)
    expect(body[0]).toBe(4)
    expect(decodeManifest(body)).toEqual(m)
    // "/" as the folder is the drive's root, written one way
    expect(decodeManifest(encodeManifest({ ...plain, mounts: [{ drive: 'ab'.repeat(32), version: 1, path: '/d', from: '/' }] })).mounts).toEqual([{ drive: 'ab'.repeat(32), version: 1, path: '/d' }])
  })

  it('refuses bad mounts with MANIFEST_INVALID', async () => {
    const plain = await manifestFor(await wat('echo'), publisher().hex)
    const ok = { drive: 'ab'.repeat(32), version: 1, path: '/data' }
    for (const bad of [
      [{ ...ok, drive: 'AB'.repeat(32) }], [{ ...ok, version: 0 }], [{ ...ok, version: 'newest' }], [{ ...ok, path: 'data' }],
      [{ ...ok, path: '/a/../b' }], [{ ...ok, path: '/a//b' }], [{ ...ok, from: 'models' }], [ok, ok], Array.from({ length: 9 }, (_, i) => ({ ...ok, path: `/m${i}` }))
    ]) {
      expect(() => encodeManifest({ ...plain, mounts: bad } as unknown as typeof plain)).toThrow(/MANIFEST_INVALID/)
    }
  })
})
