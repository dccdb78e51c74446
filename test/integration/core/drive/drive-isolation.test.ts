import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { Drive, driveHandler, driveOpener, loadMount } from '../../../../src/core/drive/index.ts'
import type { ShadwNode } from '../../../../src/core/node/index.ts'
import { driveServer } from '../../../../src/super-node/drive-server.ts'
import { testNode, testnet } from '../../../helpers/testnet.ts'

const MARKER = 'PLAINTEXT-MARKER-5be1'
const SECRET = MARKER.repeat(500)

async function readAll (it: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const c of it) parts.push(c)
  return b4a.toString(b4a.concat(parts))
}

/**
 * What a handle without the right key gets from an encrypted drive: `DRIVE_LOCKED`, at open
 * or at the first read, from every way of reading it (latest, a past version, a listing).
 */
async function expectLocked (node: ShadwNode, key: string, encryptionKey?: Uint8Array): Promise<void> {
  const opened = await Drive.open(node, key, { encryptionKey: encryptionKey ?? null, timeoutMs: 5_000 }).catch((err: unknown) => err)
  if (!(opened instanceof Drive)) {
    expect(opened).toMatchObject({ code: 'DRIVE_LOCKED' })
    return
  }
  try {
    await expect(readAll(opened.read('/secret.txt'))).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
    await expect(readAll(opened.read('/secret.txt', { version: 2 }))).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
    await expect(opened.list('/')).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
    await expect(opened.entry('/secret.txt')).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
  } finally {
    await opened.close()
  }
}

describe('an encrypted drive on a node that also has it open with its key', () => {
  it('a handle without the key, or with a wrong one, reads DRIVE_LOCKED whichever opened first', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const reader = await testNode(net)
    const { drive, encryptionKey } = await Drive.create(writer, { encrypt: true })
    const key = encryptionKey as Uint8Array
    await drive.put('/secret.txt', [b4a.from('first version')])
    await drive.put('/secret.txt', [b4a.from(SECRET)])
    await drive.put('/site/index.html', [b4a.from(SECRET)])
    const wrong = new Uint8Array(32).fill(9)

    // the owner's node: its writable handle is open
    await expectLocked(writer, drive.key)
    await expectLocked(writer, drive.key, wrong)
    expect(await readAll(drive.read('/secret.txt'))).toBe(SECRET)

    // a reader's node: a keyed handle first, then keyless and wrong-key ones beside it
    const keyed = await Drive.open(reader, drive.key, { encryptionKey: key })
    expect(await readAll(keyed.read('/secret.txt'))).toBe(SECRET)
    await expectLocked(reader, drive.key)
    await expectLocked(reader, drive.key, wrong)
    expect(await readAll(keyed.read('/secret.txt', { version: 2 }))).toBe('first version')
    await keyed.close()

    // the other order: keyless and wrong-key handles open first, the keyed one after them
    const third = await testNode(net)
    const early = await Drive.open(third, drive.key, { timeoutMs: 5_000 })
    const earlyWrong = await Drive.open(third, drive.key, { encryptionKey: wrong, timeoutMs: 5_000 })
    const late = await Drive.open(third, drive.key, { encryptionKey: key })
    expect(await readAll(late.read('/secret.txt'))).toBe(SECRET)
    await expect(readAll(early.read('/secret.txt'))).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
    await expect(readAll(earlyWrong.read('/secret.txt'))).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
    await expectLocked(third, drive.key)
    await Promise.all([early.close(), earlyWrong.close(), late.close()])
    await drive.close()
  })

  it('the node\'s /drive serving, its mounts and its raw log reads never see the plaintext', async () => {
    const net = await testnet()
    const node = await testNode(net)
    const { drive, keyPair, encryptionKey } = await Drive.create(node, { encrypt: true })
    const reopen = async (): Promise<Drive> => await Drive.open(node, keyPair, { encryptionKey })
    await drive.put('/secret.txt', [b4a.from(SECRET)])
    await drive.put('/site/index.html', [b4a.from(SECRET)])

    // a holder's raw reads of the drive's logs on this node: the blocks as stored, ciphertext
    for (const log of await drive.logs()) {
      await node.follow(log.key)
      for (let i = 0; i < log.length; i++) {
        const block = await node.get(log.key, i, { wait: false })
        expect(block).not.toBeNull()
        expect(b4a.toString(block as Uint8Array)).not.toContain(MARKER.slice(0, 12))
        expect(b4a.toString(block as Uint8Array)).not.toContain('secret.txt')
      }
    }

    // the super node's handler over this very node
    const server = driveServer(node)
    try {
      for (const path of ['/secret.txt', '/site/index.html', '/site/', '/']) {
        const res = await server.handler(new Request(`http://node.local/drive/${drive.key}${path}`))
        const body = await res.text()
        expect(res.status, path).toBe(403)
        expect(body).not.toContain(MARKER)
        expect(JSON.parse(body)).toMatchObject({ code: 'DRIVE_LOCKED' })
      }
    } finally {
      await server.close()
    }
    // a served handle opened before the owner's: still locked once the owner's is open
    const drives = driveOpener(node)
    try {
      await drive.close()
      const handler = driveHandler(drives.open)
      expect((await handler(new Request(`http://node.local/drive/${drive.key}/secret.txt`))).status).toBe(403)
      const again = await reopen()
      expect(await readAll(again.read('/secret.txt'))).toBe(SECRET)
      const res = await handler(new Request(`http://node.local/drive/${drive.key}/secret.txt`))
      expect(res.status).toBe(403)
      expect(await res.text()).not.toContain(MARKER)
      await again.close()
    } finally {
      await drives.close()
    }

    // a mount without the key, with the owner's handle open
    const owner = await reopen()
    const bare = await Drive.open(node, drive.key, { timeoutMs: 5_000 }).catch((err: unknown) => err)
    if (bare instanceof Drive) {
      await expect(loadMount(bare, { drive: drive.key, version: owner.version, path: '/data' })).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
      await bare.close()
    } else {
      expect(bare).toMatchObject({ code: 'DRIVE_LOCKED' })
    }

    await owner.close()
  })
})
