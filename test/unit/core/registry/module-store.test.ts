import b4a from 'b4a'
import RAM from 'random-access-memory'
import { describe, expect, it } from 'vitest'
import { StorageModuleStore } from '../../../../src/core/registry/index.ts'

describe('StorageModuleStore', () => {
  it('returns what was put under a hash, and null for unknown hashes', async () => {
    const store = new StorageModuleStore(RAM.reusable())
    const hash = 'ab'.repeat(32)
    expect(await store.get(hash)).toBe(null)
    await store.put(hash, b4a.from('module bytes'))
    expect(b4a.toString(await store.get(hash) as Uint8Array)).toBe('module bytes')
  })

  it('never returns stale tail bytes after a shorter rewrite', async () => {
    const store = new StorageModuleStore(RAM.reusable())
    const hash = 'cd'.repeat(32)
    await store.put(hash, b4a.from('a much longer first entry'))
    await store.put(hash, b4a.from('short'))
    expect(b4a.toString(await store.get(hash) as Uint8Array)).toBe('short')
  })

  it('refuses malformed hashes with INVALID_ARGUMENT', async () => {
    const store = new StorageModuleStore(RAM.reusable())
    await expect(store.get('../../etc/passwd')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(store.put('AB'.repeat(32), b4a.from('x'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })
})
