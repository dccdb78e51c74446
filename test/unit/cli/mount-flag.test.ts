import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../src/core/errors.ts'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { saveDriveKeys } from '../../../src/cli/drive-keys.ts'
import { parseMountFlag, withStoreKeys } from '../../../src/cli/mount-flag.ts'

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

describe('the mounts shadw invoke sends', () => {
  const drive = 'ab'.repeat(32)
  const other = 'cd'.repeat(32)
  it('adds the key store\'s key to a mount that has neither a key nor a grant, and leaves the others as they are', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shadw-keys-'))
    const encryptionKey = new Uint8Array(32).fill(7)
    const { publicKey, secretKey } = { publicKey: new Uint8Array(32).fill(1), secretKey: new Uint8Array(64).fill(2) }
    await saveDriveKeys({ key: drive, keyPair: { publicKey, secretKey }, encryptionKey }, dir)
    const own = '11'.repeat(32)
    const mounts = [{ drive, version: 4, path: '/data', from: '/sets' }, { drive: other, version: 2, path: '/extra' }, { drive, version: 4, path: '/keyed', encryptionKey: own }]
    expect(await withStoreKeys(mounts, dir)).toEqual([
      { drive, version: 4, path: '/data', from: '/sets', encryptionKey: '07'.repeat(32) },
      { drive: other, version: 2, path: '/extra' },
      { drive, version: 4, path: '/keyed', encryptionKey: own }
    ])
  })
})
