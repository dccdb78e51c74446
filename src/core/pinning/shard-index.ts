/**
 * A shard holder's slots on its own storage: a local log of `slot` records (the signed pin
 * record, the shard index and the terms that pay for it: the pinner's order and slot order, or
 * the countersigned replacement of a repaired slot; written when a slot opens) and `drop` records (a slot that
 * gave way), replayed on start, so a restarted holder serves, proves and watches what it
 * kept. The shards themselves are in one log per slot, named after the pin and shard.
 */
import b4a from 'b4a'
import { verifyErasurePin, type ErasurePin } from './erasure-pin.ts'
import type { HolderNode } from './held-logs.ts'

/** Local name of the holder's record of its slots. */
export const SHARD_INDEX_NAME = 'shadw-shard-index'

/** One record of the index. */
type SlotRecord = { op: 'slot', pin: unknown, shard: number, order?: unknown, standing?: unknown, replacement?: unknown } | { op: 'drop', root: string, shard: number }
/** A slot replayed: its pin record, and the terms kept with it, unchecked. */
export interface KeptSlot { pin: ErasurePin, shard: number, order?: unknown, standing?: unknown, replacement?: unknown }

/** The local name of the log keeping slot `shard` of pin `root`. */
export function slotLogName (root: string, shard: number): string {
  return `shadw-shards-${root}-${shard}`
}

/** The slot records of a holder (last word per slot wins). */
export class ShardIndex {
  readonly #node: Pick<HolderNode, 'createLog' | 'append' | 'get' | 'status'>
  #key: string | null = null

  constructor (node: Pick<HolderNode, 'createLog' | 'append' | 'get' | 'status'>) {
    this.#node = node
  }

  /** Replays the index: the slots kept, each with its checked pin record. */
  async open (): Promise<KeptSlot[]> {
    const slots = new Map<string, KeptSlot>()
    const info = this.#node.status().logs.find(l => l.name === SHARD_INDEX_NAME && l.writable)
    if (info === undefined) return []
    this.#key = info.key
    for (let i = 0; i < info.length; i++) {
      const block = await this.#node.get(info.key, i, { wait: false })
      if (block === null) continue
      let r: SlotRecord
      try { r = JSON.parse(b4a.toString(block)) as SlotRecord } catch { continue }
      if (r.op === 'slot') {
        try {
          const pin = verifyErasurePin(r.pin)
          if (Number.isSafeInteger(r.shard) && r.shard >= 0 && r.shard < pin.layout.k + pin.layout.m) slots.set(`${pin.root}/${r.shard}`, { pin, shard: r.shard, order: r.order, standing: r.standing, replacement: r.replacement })
        } catch {}
      } else if (r.op === 'drop') {
        slots.delete(`${r.root}/${r.shard}`)
      }
    }
    return [...slots.values()]
  }

  async record (r: SlotRecord): Promise<void> {
    this.#key ??= (await this.#node.createLog(SHARD_INDEX_NAME)).key
    await this.#node.append(this.#key, [b4a.from(JSON.stringify(r))])
  }
}
