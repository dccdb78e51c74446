import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../src/core/errors.ts'
import { parseMountFlag, withManifestMounts } from '../../../src/cli/mount-flag.ts'

const K = 'ab'.repeat(32)

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

describe('--mount DRIVE[@VERSION|@latest][:FROM]::GUEST', () => {
  it('parses a version, latest (said or not) and a folder, in one spelling', () => {
    expect(parseMountFlag(`${K}::/data`)).toEqual({ drive: K, version: 'latest', path: '/data' })
    expect(parseMountFlag(`${K}@latest::/data`)).toEqual({ drive: K, version: 'latest', path: '/data' })
    expect(parseMountFlag(`${K}@7::/data`)).toEqual({ drive: K, version: 7, path: '/data' })
    expect(parseMountFlag(`${K.toUpperCase()}@latest:/models/::/m`)).toEqual({ drive: K, version: 'latest', from: '/models', path: '/m' })
    expect(parseMountFlag(`${K}@3:/::/in`)).toEqual({ drive: K, version: 3, path: '/in' })
  })

  it('refuses malformed specs with MOUNT_INVALID', () => {
    for (const bad of [
      K, `${K}:/data`, `${K}::data`, `${K}::`, `${K}::/a/../b`, `${K}@0::/d`, `${K}@-1::/d`, `${K}@newest::/d`, `${K}@latest2::/d`,
      'xyz::/d', `${K.slice(2)}::/d`, `${K}:../x::/d`, '::/d', ''
    ]) expect(code(() => parseMountFlag(bad)), bad).toBe('MOUNT_INVALID')
  })
})

describe('the mounts shadw invoke pins at the caller', () => {
  const drive = 'ab'.repeat(32)
  const other = 'cd'.repeat(32)
  it('takes the manifest\'s own mounts, latest included, then the flags; a flag at a manifest path replaces that mount', () => {
    const manifest = [{ drive, version: 'latest' as const, path: '/data', from: '/sets' }, { drive, version: 3, path: '/fixed' }]
    expect(withManifestMounts(manifest, [])).toEqual([{ drive, version: 'latest', path: '/data', from: '/sets' }, { drive, version: 3, path: '/fixed' }])
    const flags = [parseMountFlag(`${drive}@7:/sets::/data`), parseMountFlag(`${other}::/extra`)]
    expect(withManifestMounts(manifest, flags)).toEqual([{ drive, version: 3, path: '/fixed' }, { drive, version: 7, path: '/data', from: '/sets' }, { drive: other, version: 'latest', path: '/extra' }])
    expect(withManifestMounts([], flags)).toEqual(flags)
  })
})
