/**
 * The erasure half of `shadw drive pin --erasure K+M` and `shadw drive status`: the drive's
 * logs at their current length, as bytes, coded and placed on K+M shard holders; and the
 * newest erasure pin of a drive, with its health, as the shard holders report it.
 *
 * The bytes of a drive version: a 4-byte big-endian header length, a JSON header naming each
 * log (key, length, every block's size), then every block of every log in order. That is
 * enough to rebuild the logs' blocks from any K shards per stripe; the signed pin record
 * commits to the whole.
 */
import b4a from 'b4a'
import type Hypercore from 'hypercore'
import { erasureHealth, findErasurePin, pinErasure, stripeCount, type ErasureHealth, type ErasurePlacement, type ErasureScheme, type PinClientNode, type PinRequest, type ReedSolomon, type RepairRecord } from '../core/pinning/index.ts'

/** What the pinner codes: the logs' blocks, framed (see the module comment). */
export async function driveVersionBytes (logs: Hypercore[]): Promise<{ bytes: Uint8Array, version: number }> {
  const header: Array<{ key: string, length: number, blocks: number[] }> = []
  const blocks: Uint8Array[] = []
  for (const core of logs) {
    const sizes: number[] = []
    for (let i = 0; i < core.length; i++) {
      const b = await core.get(i, { wait: false })
      if (b === null) throw new Error(`block ${i} of a local log is missing`)
      sizes.push(b.byteLength)
      blocks.push(b)
    }
    header.push({ key: b4a.toString(core.key!, 'hex'), length: core.length, blocks: sizes })
  }
  const head = b4a.from(JSON.stringify({ logs: header }))
  const len = b4a.alloc(4)
  new DataView(len.buffer, len.byteOffset, 4).setUint32(0, head.byteLength)
  return { bytes: b4a.concat([len, head, ...blocks]), version: logs[0]?.length ?? 0 }
}

/** Codes and places a drive version; resolves with the placement. */
export async function pinDriveErasure (o: { node: PinClientNode, rs: ReedSolomon, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, drive: string, logs: Hypercore[], scheme: ErasureScheme, timeoutMs: number }): Promise<ErasurePlacement> {
  const { bytes, version } = await driveVersionBytes(o.logs)
  return await pinErasure({ node: o.node, rs: o.rs, keyPair: o.keyPair, drive: o.drive, version, bytes, scheme: o.scheme, timeoutMs: o.timeoutMs })
}

/** What status says of an erasure pin's repairs. */
interface RepairStatus {
  /** `running` while a holder rebuilds a slot, `due` while degraded and none does, else null */
  repair: 'due' | 'running' | null
  /** the signed placement records of the repairs done so far */
  repairs: RepairRecord[]
}

/** The status of a drive's newest erasure pin, or null when no shard holder keeps one. */
export async function erasureStatus (node: PinClientNode, drive: string): Promise<(ErasureHealth & RepairStatus & { root: string, version: number, size: number, stripes: number, holders: Array<{ shard: number, holder: string }> }) | null> {
  const found = await findErasurePin({ node, drive })
  if (found === null) return null
  const { pin, holds } = found
  // every stripe's shard i sits on slot i's holder: one live count serves all stripes
  const live = new Set(holds.map(h => h.shard)).size
  const health = erasureHealth(pin.layout, new Array(stripeCount(pin.layout)).fill(live))
  const repair = (found.repairing ?? []).length > 0 ? 'running' : health.health === 'degraded' ? 'due' : null
  return { ...health, repair, repairs: found.repairs ?? [], root: pin.root, version: pin.version, size: pin.layout.size, stripes: pin.stripes.length, holders: holds.map(h => ({ shard: h.shard, holder: h.holder })) }
}

/** The summary line of an erasure pin. */
export function erasureSummary (p: ErasurePlacement, req: Pick<PinRequest, 'drive'>): string {
  const { k, m, size } = p.pin.layout
  return [`pinned ${req.drive} erasure-coded ${k}+${m} (${size} bytes in ${p.pin.stripes.length} stripe(s), ${(k + m) / k}× stored) on ${p.holds.length} holders:`, ...p.holds.map(h => `  shard ${h.shard}  ${h.holder}`), ''].join('\n')
}
