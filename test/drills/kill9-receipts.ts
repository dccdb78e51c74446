/**
 * Drill: tenants invoke through a live `shadw start` (many calls in flight) while it is killed
 * with SIGKILL, several times, restarting on the same storage. Checks: every receipt a tenant
 * was answered with is in the ledger, byte for byte the same receipt at the index it was
 * given, and no index was given to two receipts.
 *
 *   node --import tsx test/drills/kill9-receipts.ts
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Corestore from 'corestore'
import createTestnet from 'hyperdht/testnet'
import b4a from 'b4a'
import { decodeReceipt, type SignedReceipt } from '../../src/core/ledger/index.ts'
import { wat } from '../fixtures/wasm/fixtures.ts'
import { Drill } from './drill.ts'
import { echoPublisher, invoke, killLive, startLive, type LiveNode } from './live-node.ts'

/** Kill after this many ms of calls, one per round. */
const KILL_AFTER_MS = [4_000, 6_500, 5_000, 7_500]
/** Calls kept in flight by the tenants. */
const IN_FLIGHT = 2

const drill = new Drill('kill -9 of a super node while tenants hold receipts')
const storage = await mkdtemp(join(tmpdir(), 'shadw-drill-receipts-'))
const net = await createTestnet(3, { host: '127.0.0.1' })
const bootstrap = net.bootstrap.map(b => `${b.host}:${b.port}`).join(',')
/** every receipt a tenant was answered with, by the index it was given (a list: an index given twice keeps both) */
const held: Array<{ index: number, receipt: SignedReceipt }> = []
const indexes = new Set<number>()
let duplicate = 0
let code = 1
let ledgerKey = ''
try {
  let node: LiveNode = await startLive(storage, ['--bootstrap', bootstrap])
  ledgerKey = node.ledgerKey
  const pub = await echoPublisher(node, await wat('echo'))
  try {
    for (const [round, ms] of KILL_AFTER_MS.entries()) {
      if (round > 0) node = await startLive(storage, ['--bootstrap', bootstrap])
      const warm = await invoke(node, pub.ref, 'warm')
      drill.check(`round ${round + 1}: the restarted node answers a normal call`, warm.ok, warm.ok ? `ledger index ${warm.ledger.index}` : `${warm.status} ${warm.code}`)
      if (warm.ok) {
        if (indexes.has(warm.ledger.index)) duplicate++
        indexes.add(warm.ledger.index)
        held.push({ index: warm.ledger.index, receipt: warm.receipt as SignedReceipt })
      }
      // set once the node is killed (an object: the loop reads it after each await)
      const run = { stop: false }
      let answered = 0
      const failures = new Map<string, number>()
      const tenant = async (t: number): Promise<void> => {
        for (let i = 0; !run.stop && i < 100_000; i++) {
          const r = await invoke(node, pub.ref, `tenant ${t} call ${i} round ${round}`, 10_000)
          if (!r.ok) { failures.set(r.code, (failures.get(r.code) ?? 0) + 1); continue }
          answered++
          if (indexes.has(r.ledger.index)) duplicate++
          indexes.add(r.ledger.index)
          held.push({ index: r.ledger.index, receipt: r.receipt as SignedReceipt })
        }
      }
      const tenants = Array.from({ length: IN_FLIGHT }, async (_, t) => { await tenant(t) })
      await new Promise(resolve => setTimeout(resolve, ms))
      await killLive(node)
      run.stop = true
      await Promise.all(tenants)
      drill.step(`round ${round + 1}: SIGKILL after ${ms} ms; ${answered} calls answered with a receipt this round; refused or cut: ${JSON.stringify(Object.fromEntries(failures))}`)
    }
  } finally {
    await pub.close()
  }
  // every receipt held, read from the killed node's storage
  const store = new Corestore(storage)
  const core = store.get({ key: b4a.from(ledgerKey, 'hex') })
  await core.ready()
  let missing = 0
  let differs = 0
  for (const { index, receipt } of held) {
    const block = index < core.length ? await core.get(index, { wait: false }) as Uint8Array | null : null
    if (block === null) { missing++; continue }
    const stored = decodeReceipt(block)
    if (stored.nonce !== receipt.nonce || stored.signature !== receipt.signature || stored.outputHash !== receipt.outputHash) differs++
  }
  drill.check('thousands of receipts held by tenants', held.length >= 1_000, `${held.length} receipts over ${KILL_AFTER_MS.length} kills`)
  drill.check('every receipt a tenant holds is in the ledger after the kills', missing === 0, `${missing} of ${held.length} missing; ledger length ${core.length}`)
  drill.check('each is the very receipt at the index it was given', differs === 0, `${differs} differ`)
  drill.check('no ledger index was given to two receipts', duplicate === 0, `${duplicate} indexes given twice`)
  await core.close()
  await store.close()
  code = drill.finish()
} catch (err) {
  drill.check('the drill ran to its end', false, err instanceof Error ? err.stack ?? err.message : String(err))
  code = drill.finish()
} finally {
  await net.destroy()
  await rm(storage, { recursive: true, force: true })
}
process.exit(code)
