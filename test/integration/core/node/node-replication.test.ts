import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { testNode, testnet } from '../../../helpers/testnet.ts'

describe('ShadwNode replication on a local HyperDHT', () => {
  it('a followed log gets existing and live blocks, verified, sparsely', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const reader = await testNode(net)

    const created = await writer.createLog('ledger')
    expect(created).toMatchObject({ name: 'ledger', writable: true, length: 0 })
    expect(await writer.append(created.key, [b4a.from('a'), b4a.from('b'), b4a.from('c')])).toBe(3)

    const followed = await reader.follow(created.key)
    expect(followed).toMatchObject({ key: created.key, name: null, writable: false })

    // sparse: the reader fetches block 2 only
    expect(b4a.toString((await reader.get(created.key, 2, { timeout: 20_000 }))!)).toBe('c')
    expect(await reader.has(created.key, 2)).toBe(true)
    expect(await reader.has(created.key, 0)).toBe(false)

    // live append reaches the reader
    await writer.append(created.key, [b4a.from('d')])
    expect(await reader.waitForLength(created.key, 4, 20_000)).toBe(4)
    expect(b4a.toString((await reader.get(created.key, 3))!)).toBe('d')

    const status = reader.status()
    expect(status.logs.map(l => l.key)).toEqual([created.key])
    expect(status.peers.length).toBeGreaterThanOrEqual(1)
    expect(status.peers.map(p => p.publicKey)).toContain(writer.publicKey)
  })

  it('refuses bad input with typed errors', async () => {
    const net = await testnet()
    const node = await testNode(net)
    const log = await node.createLog('x')
    await expect(node.follow('not-a-key')).rejects.toMatchObject({ code: 'INVALID_LOG_KEY' })
    await expect(node.get('00'.repeat(32), 0)).rejects.toMatchObject({ code: 'LOG_NOT_FOUND' })
    await expect(node.append(log.key, [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(node.createLog('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(node.get(log.key, -1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(node.get(log.key, 5, { wait: false })).resolves.toBe(null)
    await node.stop()
    await node.stop()
    await expect(node.createLog('y')).rejects.toBeInstanceOf(ShadwError)
    await expect(node.createLog('y')).rejects.toMatchObject({ code: 'NODE_CLOSED' })
  })

  it('re-opens held logs after a restart on the same storage', async () => {
    const net = await testnet()
    const RAM = (await import('random-access-memory')).default
    const storage = RAM.reusable()
    const first = await testNode(net, { storage })
    const log = await first.createLog('ledger')
    await first.append(log.key, [b4a.from('kept')])
    const publicKey = first.publicKey
    await first.stop()

    const second = await testNode(net, { storage })
    expect(second.status().logs).toMatchObject([{ key: log.key, name: 'ledger', length: 1, writable: true }])
    expect(b4a.toString((await second.get(log.key, 0, { wait: false }))!)).toBe('kept')
    // identity comes from the swarm key pair the host passes in, so it changes here by design
    expect(second.publicKey).not.toBe(publicKey)
  })
})
