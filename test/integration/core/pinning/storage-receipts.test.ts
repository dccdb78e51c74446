import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import {
  computeStorageCredits, type CosignedPin, signStorageOrder, type StorageOrder, GIB, MONTH_MS, readLedger, type LedgerEntry, STORAGE_LEDGER_LOG_NAME, storageCharge, verifyCosignedPin, verifyStorageReceipt, type SignedStorageReceipt
} from '../../../../src/core/ledger/index.ts'
import { describeLogs, Holder, pinBytes, pinDrive, type PinRequest } from '../../../../src/core/pinning/index.ts'
import { computeStorageReputation } from '../../../../src/core/reputation/index.ts'
import { keyedNode, type KeyedNode } from '../../../helpers/holders.ts'
import { tempDir } from '../../../helpers/super-node.ts'
import { testnet } from '../../../helpers/testnet.ts'

describe('storage receipts from a real pin', () => {
  it('a holder on a local testnet records the pin co-signed with its pinner, a hold receipt per re-confirmation and serve receipts for bytes a reader fetched, which verify and sum to the expected credits', async () => {
    const net = await testnet()
    const k = await keyedNode(net)
    const ledger = (await k.node.createLog(STORAGE_LEDGER_LOG_NAME)).key
    // a steep price so a few heartbeats of 160 KiB bill whole µcredits; 1 s grace: a heartbeat every 200 ms
    const holder = new Holder({ node: k.node, keyPair: k.keyPair, budget: 64 * 1024 * 1024, price: 1e12, graceMs: 1_000, ledger: { append: async blocks => await k.node.append(ledger, blocks) } })
    const stopHolder = async (): Promise<void> => { holder.stop(); await holder.recorded() }
    await holder.announced()

    const pinner = await keyedNode(net, { tier: 'light' })
    const db = pinner.store.get({ name: 'db' })
    await db.append(Array.from({ length: 40 }, (_, i) => b4a.alloc(4096, i)))
    await pinner.node.follow(db.key!)
    const logs = await describeLogs([db])
    const drive = logs[0]!.key
    const [conf] = await pinDrive({ node: pinner.node, request: { drive, logs, replicas: 1 }, keyPair: pinner.keyPair })
    expect(conf?.holder).toBe(k.node.publicKey)
    // the uploader leaves; a reader fetches the drive, from the holder alone
    await pinner.stop()
    const reader = await keyedNode(net, { tier: 'light' })
    await reader.node.follow(drive)
    await reader.node.download(drive, { start: 0, end: 40 }, { timeout: 20_000 })
    // the holder counted every upload before the reader had the blocks: a re-confirmation from now bills them
    const fetched = Date.now()

    // bounded wait for a few re-confirmations, one of them after the fetch
    const read = async (): Promise<LedgerEntry[]> => await readLedger({ length: k.node.logInfo(ledger).length, get: async (i: number) => await k.node.get(ledger, i) })
    for (let i = 0; i < 100; i++) {
      const now = await read()
      if (now.length >= 5 && now.some(e => e.kind === 'storage' && e.receipt.kind === 'hold' && e.receipt.to >= fetched)) break
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    await stopHolder()

    const entries = await read()
    expect(entries.length).toBeGreaterThanOrEqual(5)
    // first the agreement, signed by both sides; then the holder's receipts
    expect(entries[0]?.kind).toBe('storage-pin')
    const record = (entries[0] as { pin: CosignedPin }).pin
    expect(verifyCosignedPin(record)).toEqual(record)
    expect(entries.slice(1).every(e => e.kind === 'storage')).toBe(true)
    const all = entries.slice(1).map(e => (e as { receipt: SignedStorageReceipt }).receipt)
    for (const r of all) expect(verifyStorageReceipt(r)).toEqual(r)
    // bytes served to the reader, billed at the serving price the idle holder asked (half the base per MiB)
    const serves = all.filter(r => r.kind === 'serve')
    const served = serves.reduce((sum, r) => sum + r.bytes, 0)
    expect(served).toBeGreaterThanOrEqual(40 * 4096)
    for (const r of serves) expect(r).toMatchObject({ price: 50, pinner: pinner.node.publicKey, total: storageCharge('serve', r.bytes, r.from, r.to, 50) })
    const serveTotal = serves.reduce((sum, r) => sum + r.total, 0)
    const holds = all.filter(r => r.kind !== 'serve')
    const bytes = pinBytes({ logs })
    // the pin at the prices the idle holder asked (half its base on the default curve), owed by the pinner's node
    expect(record).toMatchObject({ drive, holder: k.node.publicKey, pinner: pinner.node.publicKey, bytes, price: 5e11, servePrice: 50 })
    // hold periods follow on from when the pin was held, after the order, without a gap or an overlap
    const start = holds[0]!.from
    expect(start).toBeGreaterThanOrEqual(record.time)
    let at = start
    for (const h of holds) {
      expect(h).toMatchObject({ kind: 'hold', bytes, price: 5e11, pinner: pinner.node.publicKey, from: at })
      expect(h.to).toBeGreaterThanOrEqual(h.from)
      at = h.to
    }
    const expected = holds.reduce((sum, h) => sum + storageCharge('hold', bytes, h.from, h.to, h.price), 0)
    const exact = bytes * (at - start) * 5e11 / (GIB * MONTH_MS)
    expect(expected).toBeGreaterThan(0)
    expect(expected).toBeLessThanOrEqual(exact)
    expect(expected).toBeGreaterThan(exact - holds.length)
    const credits = computeStorageCredits(entries)
    expect(credits.earned.get(k.node.publicKey)).toBe(expected + serveTotal)
    expect(credits.owed.get(pinner.node.publicKey)).toBe(expected + serveTotal)
    expect(credits.holders.get(k.node.publicKey)?.bytesServed).toBe(served)
    expect(credits.rejected).toEqual([])
    expect(credits.unbacked).toBe(0)
    expect(computeStorageReputation(entries).get(k.node.publicKey)).toMatchObject({ kept: holds.length, missed: 0 })
    // without the co-signed record, the same receipts earn nothing: the holder's word alone is not a pin
    const alone = computeStorageCredits(entries.slice(1))
    expect(alone.earned.size).toBe(0)
    expect(alone.unbacked).toBe(all.length)
    expect(computeStorageReputation(entries.slice(1)).get(k.node.publicKey)?.kept ?? 0).toBe(0)
  })

  it('a restarted holder bills from when it holds again, at the agreed price and pinner: the time it was down is a gap, counted missed', async () => {
    const net = await testnet()
    const dir = await tempDir()
    const start = async (): Promise<{ k: KeyedNode, holder: Holder, ledger: string }> => {
      const k = await keyedNode(net, { storage: dir })
      const ledger = (await k.node.createLog(STORAGE_LEDGER_LOG_NAME)).key
      const holder = new Holder({ node: k.node, keyPair: k.keyPair, budget: 1024 * 1024, price: 1e12, graceMs: 1_000, ledger: { append: async blocks => await k.node.append(ledger, blocks) } })
      await holder.announced()
      return { k, holder, ledger }
    }
    const first = await start()
    const pinner = await keyedNode(net, { tier: 'light' })
    const db = pinner.store.get({ name: 'db' })
    await db.append(Array.from({ length: 10 }, (_, i) => b4a.alloc(1000, i)))
    await pinner.node.follow(db.key!)
    const logs = await describeLogs([db])
    const drive = logs[0]!.key
    await pinDrive({ node: pinner.node, request: { drive, logs, replicas: 1 }, keyPair: pinner.keyPair })
    for (let i = 0; i < 100 && first.k.node.logInfo(first.ledger).length < 2; i++) await new Promise(resolve => setTimeout(resolve, 100))
    first.holder.stop()
    await first.holder.recorded()
    await first.k.stop()
    // down for a while: none of this time may be billed
    await new Promise(resolve => setTimeout(resolve, 500))

    const again = await start()
    expect(again.ledger).toBe(first.ledger)
    const before = again.k.node.logInfo(again.ledger).length
    for (let i = 0; i < 100 && again.k.node.logInfo(again.ledger).length < before + 2; i++) await new Promise(resolve => setTimeout(resolve, 100))
    again.holder.stop()
    await again.holder.recorded()
    const entries = await readLedger({ length: again.k.node.logInfo(again.ledger).length, get: async (i: number) => await again.k.node.get(again.ledger, i) })
    // one pin record only: a resumed pin is not a new agreement
    expect(entries.filter(e => e.kind === 'storage-pin')).toHaveLength(1)
    expect(entries[0]?.kind).toBe('storage-pin')
    const receipts = entries.slice(1).map(e => (e as { receipt: SignedStorageReceipt }).receipt)
    expect(receipts.filter(r => r.kind === 'pin')).toHaveLength(0)
    for (const r of receipts) expect(r).toMatchObject({ drive, pinner: pinner.node.publicKey, price: 5e11 })
    const last = receipts[before - 2]!
    const resumed = receipts[before - 1]!
    expect(resumed.kind).toBe('hold')
    expect(resumed.from - last.to).toBeGreaterThanOrEqual(500)
    expect(computeStorageReputation(entries).get(again.k.node.publicKey)).toMatchObject({ kept: receipts.length, missed: 1 })
    expect(computeStorageCredits(entries).rejected).toEqual([])
  })

  it('a pin without the pinner\'s order earns nothing, and an order the holder would not sign is refused, typed, before anything is held', async () => {
    const net = await testnet()
    const k = await keyedNode(net)
    const ledger = (await k.node.createLog(STORAGE_LEDGER_LOG_NAME)).key
    const holder = new Holder({ node: k.node, keyPair: k.keyPair, budget: 1024 * 1024, price: 1e12, graceMs: 1_000, ledger: { append: async blocks => await k.node.append(ledger, blocks) } })
    await holder.announced()
    const pinner = await keyedNode(net, { tier: 'light' })
    const make = async (name: string): Promise<PinRequest> => {
      const core = pinner.store.get({ name })
      await core.append(Array.from({ length: 4 }, (_, i) => b4a.alloc(1000, i)))
      await pinner.node.follow(core.key!)
      const logs = await describeLogs([core])
      return { drive: logs[0]!.key, logs, replicas: 1 }
    }
    const request = await make('unordered')
    await pinDrive({ node: pinner.node, request })
    const refusals = await make('refused')
    const order = (over: Record<string, unknown>): StorageOrder => signStorageOrder({ drive: refusals.drive, holder: k.node.publicKey, bytes: pinBytes(refusals), time: Date.now(), price: 1e12, servePrice: 100, ...over }, pinner.keyPair)
    for (const bad of [order({ price: 1 }), order({ holder: pinner.node.publicKey }), order({ bytes: 1 }), order({ time: Date.now() - 3_600_000 })]) {
      await expect(holder.pin(refusals, pinner.node.publicKey, { order: bad })).rejects.toMatchObject({ code: 'PIN_PROTOCOL' })
    }
    expect(holder.status().drives.map(d => d.drive)).toEqual([request.drive])
    for (let i = 0; i < 100 && k.node.logInfo(ledger).length < 3; i++) await new Promise(resolve => setTimeout(resolve, 100))
    holder.stop()
    await holder.recorded()
    const entries = await readLedger({ length: k.node.logInfo(ledger).length, get: async (i: number) => await k.node.get(ledger, i) })
    expect(entries.length).toBeGreaterThanOrEqual(3)
    expect(entries.some(e => e.kind === 'storage-pin')).toBe(false)
    const credits = computeStorageCredits(entries)
    expect(credits.earned.size).toBe(0)
    expect(credits.unbacked).toBe(entries.length)
  })
})
