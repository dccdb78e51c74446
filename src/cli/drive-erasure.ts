/**
 * The erasure half of `shadw drive pin --erasure K+M` and `shadw drive status`: the drive's
 * logs at their current length, streamed stripe by stripe into K+M shard holders
 * (core/pinning/erasure-pinner.ts, erasure-source.ts); and the newest erasure pin of a
 * drive, with its health, as the shard holders report it.
 */
import type Hypercore from 'hypercore'
import { driveVersionSource, erasureHealth, excludedHolders, findErasurePin, pinErasure, stripeCount, type ErasureHealth, type ErasurePlacement, type ErasureScheme, type PinClientNode, type PinProgress, type PinRequest, type ReedSolomon, type RepairRecord, type SlotPaid } from '../core/pinning/index.ts'

/** The whole version in memory, as the pinner codes it: for checks on small drives (drills, tests). */
export async function driveVersionBytes (logs: Hypercore[]): Promise<{ bytes: Uint8Array, version: number }> {
  const source = await driveVersionSource(logs)
  return { bytes: await source.read(0, source.size), version: source.version }
}

/** Codes and places a drive version, streaming it; resolves with the placement. */
export async function pinDriveErasure (o: { node: PinClientNode, rs: ReedSolomon, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, drive: string, logs: Hypercore[], scheme: ErasureScheme, timeoutMs: number, onprogress?: (p: PinProgress) => void }): Promise<ErasurePlacement> {
  const source = await driveVersionSource(o.logs)
  return await pinErasure({ node: o.node, rs: o.rs, keyPair: o.keyPair, drive: o.drive, version: source.version, source, scheme: o.scheme, timeoutMs: o.timeoutMs, ...(o.onprogress === undefined ? {} : { onprogress: o.onprogress }) })
}

/** What status says of an erasure pin's repairs. */
interface RepairStatus {
  /** `running` while a holder rebuilds a slot, `due` while degraded and none does, else null */
  repair: 'due' | 'running' | null
  /** the signed placement records of the repairs done so far */
  repairs: RepairRecord[]
}

/** The status of a drive's newest erasure pin, or null when no shard holder keeps one. */
export async function erasureStatus (node: PinClientNode, drive: string): Promise<(ErasureHealth & RepairStatus & { root: string, version: number, size: number, stripes: number, holders: Array<{ shard: number, holder: string, paid: SlotPaid }>, excluded: string[] }) | null> {
  const found = await findErasurePin({ node, drive })
  if (found === null) return null
  const { pin, holds } = found
  // every stripe's shard i sits on slot i's holder: one live count serves all stripes (a
  // holder that served wrong bytes holds nothing that counts: findErasurePin leaves it out)
  const live = new Set(holds.map(h => h.shard)).size
  const health = erasureHealth(pin.layout, new Array(stripeCount(pin.layout)).fill(live))
  const repair = (found.repairing ?? []).length > 0 ? 'running' : health.health === 'degraded' ? 'due' : null
  return { ...health, repair, repairs: found.repairs ?? [], root: pin.root, version: pin.version, size: pin.layout.size, stripes: pin.stripes.length, holders: holds.map(h => ({ shard: h.shard, holder: h.holder, paid: found.paid?.[`${h.holder}/${h.shard}`] ?? null })), excluded: [...excludedHolders(found)].sort() }
}

/** The summary line of an erasure pin. */
export function erasureSummary (p: ErasurePlacement, req: Pick<PinRequest, 'drive'>): string {
  const { k, m, size } = p.pin.layout
  return [`pinned ${req.drive} erasure-coded ${k}+${m} (${size} bytes in ${p.pin.stripes.length} stripe(s), ${(k + m) / k}× stored) on ${p.holds.length} holders:`, ...p.holds.map(h => `  shard ${h.shard}  ${h.holder}`), ''].join('\n')
}
