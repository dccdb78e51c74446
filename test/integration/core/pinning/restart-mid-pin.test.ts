import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { computeStorageCredits, readLedger, STORAGE_LEDGER_LOG_NAME, verifyCosignedPin, type CosignedPin, type LedgerEntry } from '../../../../src/core/ledger/index.ts'
import { describeLogs, Holder, pinDrive } from '../../../../src/core/pinning/index.ts'
import { keyedNode, type KeyedNode } from '../../../helpers/holders.ts'
import { tempDir } from '../../../helpers/super-node.ts'
import { testnet } from '../../../helpers/testnet.ts'

const BLOCK = 64 * 1024
const BLOCKS = 1024

describe('a holder restarted mid-pin', () => {
  it('resumes the fetch from its own storage and countersigns the pinner\'s order it took before the restart; the pinner\'s retry is answered from what it holds', async () => {
    const net = await testnet()
    const dir = await tempDir()
    const start = async (): Promise<{ k: KeyedNode, holder: Holder, ledger: string, entries: () => Promise<LedgerEntry[]> }> => {
      const k = await keyedNode(net, { storage: dir })
      const ledger = (await k.node.createLog(STORAGE_LEDGER_LOG_NAME)).key
      const holder = new Holder({ node: k.node, keyPair: k.keyPair, budget: 256 * 1024 * 1024, graceMs: 1_000, ledger: { append: async blocks => await k.node.append(ledger, blocks) } })
      await holder.announced()
      const entries = async (): Promise<LedgerEntry[]> => await readLedger({ length: k.node.logInfo(ledger).length, get: async (i: number) => await k.node.get(ledger, i) })
      return { k, holder, ledger, entries }
    }
    const first = await start()
    const pinner = await keyedNode(net, { tier: 'light' })
    const db = pinner.store.get({ name: 'db' })
    // 64 MiB: the holder is still fetching when it is stopped
    for (let i = 0; i < BLOCKS; i += 64) await db.append(Array.from({ length: 64 }, (_, j) => b4a.alloc(BLOCK, (i + j) % 251)))
    await pinner.node.follow(db.key!)
    const logs = await describeLogs([db])
    const drive = logs[0]!.key
    const request = { drive, logs, replicas: 1 }
    const pinning = pinDrive({ node: pinner.node, request, keyPair: pinner.keyPair, timeoutMs: 60_000 })
    pinning.catch(() => {})
    for (let i = 0; i < 1_000 && first.holder.status().drives.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
    expect(first.holder.status().drives).toEqual([{ drive, held: false, holders: 0, replicas: 1 }])
    first.holder.stop()
    await first.holder.recorded()
    await first.k.stop()
    // its only holder left mid-pin: the pin fails for the pinner, typed
    await expect(pinning).rejects.toMatchObject({ code: 'NOT_ENOUGH_HOLDERS' })

    const again = await start()
    expect(again.k.node.publicKey).toBe(first.k.node.publicKey)
    await again.holder.settled()
    expect(again.holder.status().drives).toEqual([{ drive, held: true, holders: 1, replicas: 1 }])
    let entries: LedgerEntry[] = []
    for (let i = 0; i < 100; i++) {
      entries = await again.entries()
      if (entries.some(e => e.kind === 'storage-pin') && entries.some(e => e.kind === 'storage' && e.receipt.kind === 'hold')) break
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    const records = entries.filter(e => e.kind === 'storage-pin').map(e => (e as { pin: CosignedPin }).pin)
    expect(records).toHaveLength(1)
    expect(verifyCosignedPin(records[0]!)).toMatchObject({ drive, holder: again.k.node.publicKey, pinner: pinner.node.publicKey, bytes: BLOCKS * BLOCK })
    // the pinner tries again: answered from what is held, no second agreement
    const [conf] = await pinDrive({ node: pinner.node, request, keyPair: pinner.keyPair, timeoutMs: 60_000 })
    expect(conf?.holder).toBe(again.k.node.publicKey)
    again.holder.stop()
    await again.holder.recorded()
    entries = await again.entries()
    expect(entries.filter(e => e.kind === 'storage-pin')).toHaveLength(1)
    const credits = computeStorageCredits(entries)
    expect(credits.unbacked).toBe(0)
    expect(credits.holders.get(again.k.node.publicKey)?.kept).toBeGreaterThan(0)
  })
})
