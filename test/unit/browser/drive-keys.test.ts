import b4a from 'b4a'
import Corestore from 'corestore'
import RAM from 'random-access-memory'
import { describe, expect, it } from 'vitest'
import { DriveKeyStore } from '../../../src/browser/drive-keys.ts'

describe('the browser\'s drive keys', () => {
  it('derives the same keys after a restart from the primary key, and stores nothing secret', async () => {
    const storage = RAM.reusable()
    const store = new Corestore(storage)
    const keys = new DriveKeyStore(store)
    const plain = await keys.create({ encrypt: false, label: 'site' })
    const secret = await keys.create({ encrypt: true })
    expect(plain.encryptionKey).toBeNull()
    expect(secret.encryptionKey?.byteLength).toBe(32)
    expect(b4a.toString(plain.keyPair.publicKey, 'hex')).toBe(plain.key)
    expect(plain.key).not.toBe(secret.key)
    // the index log holds public facts only
    const index = store.get({ name: 'shadw-drive-index' })
    await index.ready()
    for (let i = 0; i < index.length; i++) {
      const text = b4a.toString((await index.get(i))!)
      expect(text).not.toContain(b4a.toString(secret.keyPair.secretKey, 'hex'))
      expect(text).not.toContain(b4a.toString(secret.encryptionKey!, 'hex'))
    }
    await index.close()
    await keys.close()
    await store.close()

    const again = new DriveKeyStore(new Corestore(storage))
    expect((await again.list()).map(d => [d.key, d.label, d.encrypted])).toEqual([[secret.key, '', true], [plain.key, 'site', false]])
    const s = await again.secrets(secret.key)
    expect(b4a.equals(s!.keyPair.secretKey, secret.keyPair.secretKey)).toBe(true)
    expect(b4a.equals(s!.encryptionKey!, secret.encryptionKey!)).toBe(true)
    expect(await again.secrets('ab'.repeat(32))).toBeNull()
    await again.close()
  })

  it('refuses a label past its length with INVALID_ARGUMENT', async () => {
    const keys = new DriveKeyStore(new Corestore(RAM.reusable()))
    await expect(keys.create({ encrypt: false, label: 'x'.repeat(81) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await keys.close()
  })
})
