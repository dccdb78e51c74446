/**
 * Durability simulation (`node --import tsx scripts/durability-sim.ts`): thousands of holders
 * and tens of thousands of stripes on one machine, holders lost at random (exponential
 * lives, each replaced by a fresh holder), every shard of a lost holder down for an
 * exponential time of mean T and then re-placed on a random holder outside its stripe (the
 * repair), a stripe counted lost when more than M of its shards are down at once (and then
 * started afresh, so losses keep being sampled). The churn is set high enough that losses
 * are countable in seconds; the counts are compared with the model's rate
 * (src/core/pinning/durability.ts) and written to bench/results/durability.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { meanDaysToLoss, stripeLossRate, type DurabilityInputs } from '../src/core/pinning/durability.ts'

interface SimCase extends DurabilityInputs { holders: number, stripes: number, days: number }

/** A min-heap of events keyed by time: [time, kind (0 holder loss, 1 repair), id]. */
class Heap {
  t: number[] = []
  v: number[] = []
  push (time: number, id: number): void {
    const { t, v } = this
    let i = t.length
    t.push(time); v.push(id)
    while (i > 0) {
      const p = (i - 1) >> 1
      if ((t[p] as number) <= time) break
      t[i] = t[p] as number; v[i] = v[p] as number; i = p
    }
    t[i] = time; v[i] = id
  }

  pop (): [number, number] {
    const { t, v } = this
    const top: [number, number] = [t[0] as number, v[0] as number]
    const lt = t.pop() as number
    const lv = v.pop() as number
    if (t.length > 0) {
      let i = 0
      for (;;) {
        const a = 2 * i + 1
        if (a >= t.length) break
        const b = a + 1 < t.length && (t[a + 1] as number) < (t[a] as number) ? a + 1 : a
        if ((t[b] as number) >= lt) break
        t[i] = t[b] as number; v[i] = v[b] as number; i = b
      }
      t[i] = lt; v[i] = lv
    }
    return top
  }
}

const exp = (mean: number): number => -Math.log(1 - Math.random()) * mean

function simulate (c: SimCase): { losses: number, stripeDays: number } {
  const n = c.k + c.m
  const slots = c.stripes * n
  const holderOf = new Int32Array(slots)
  const down = new Uint8Array(slots)
  const downCount = new Uint8Array(c.stripes)
  const epoch = new Int32Array(slots) // a repair scheduled before its stripe was renewed is stale
  const held: Array<Set<number>> = Array.from({ length: c.holders }, () => new Set())
  const pick = (stripe: number): number => {
    for (;;) {
      const h = Math.floor(Math.random() * c.holders)
      let used = false
      for (let j = 0; j < n; j++) if (holderOf[stripe * n + j] === h && down[stripe * n + j] === 0) used = true
      if (!used) return h
    }
  }
  const place = (slot: number, h: number): void => { holderOf[slot] = h; held[h]?.add(slot) }
  for (let s = 0; s < c.stripes; s++) for (let j = 0; j < n; j++) { holderOf[s * n + j] = -1; place(s * n + j, pick(s)) }
  const heap = new Heap()
  // holder losses as one Poisson stream of rate holders·λ; id −1 marks them
  heap.push(exp(1 / (c.holders * c.lossPerDay)), -1)
  let losses = 0
  for (;;) {
    const [t, id] = heap.pop()
    if (t > c.days) break
    if (id === -1) {
      const h = Math.floor(Math.random() * c.holders)
      // the holder at index h is replaced by a fresh one: a stripe renewed below may land on it
      const lost = [...held[h] as Set<number>]
      ;(held[h] as Set<number>).clear()
      for (const slot of lost) {
        const s = Math.floor(slot / n)
        down[slot] = 1
        holderOf[slot] = -1
        if (++(downCount[s] as number) > c.m) {
          losses++
          // the stripe is gone; start it afresh on new holders (a new pin) to keep sampling
          for (let j = 0; j < n; j++) {
            const sl = s * n + j
            if (holderOf[sl] !== -1) held[holderOf[sl] as number]?.delete(sl)
            holderOf[sl] = -1; down[sl] = 0; epoch[sl] = (epoch[sl] as number) + 1
          }
          downCount[s] = 0
          for (let j = 0; j < n; j++) place(s * n + j, pick(s))
        } else {
          heap.push(t + exp(c.downDays), slot * 1024 + ((epoch[slot] as number) & 1023))
        }
      }
      heap.push(t + exp(1 / (c.holders * c.lossPerDay)), -1)
    } else {
      const slot = Math.floor(id / 1024)
      if ((id & 1023) !== ((epoch[slot] as number) & 1023) || down[slot] === 0) continue
      const s = Math.floor(slot / n)
      down[slot] = 0
      downCount[s] = (downCount[s] as number) - 1
      place(slot, pick(s))
    }
  }
  return { losses, stripeDays: c.stripes * c.days }
}

const CASES: SimCase[] = [
  { k: 4, m: 2, lossPerDay: 0.2, downDays: 2 / 24, holders: 5000, stripes: 20000, days: 30 },
  { k: 4, m: 2, lossPerDay: 0.5, downDays: 2 / 24, holders: 5000, stripes: 20000, days: 10 },
  { k: 4, m: 2, lossPerDay: 0.2, downDays: 6 / 24, holders: 5000, stripes: 20000, days: 10 },
  { k: 10, m: 5, lossPerDay: 0.5, downDays: 4 / 24, holders: 5000, stripes: 5000, days: 10 },
  { k: 2, m: 1, lossPerDay: 0.1, downDays: 2 / 24, holders: 5000, stripes: 20000, days: 10 }
]

const rows: unknown[] = []
const started = performance.now()
for (const c of CASES) {
  const t = performance.now()
  const { losses, stripeDays } = simulate(c)
  const expected = stripeLossRate(c) * stripeDays
  const exact = stripeDays / meanDaysToLoss(c)
  const round = (x: number): number => Math.round(x * 100) / 100
  const row = { scheme: `${c.k}+${c.m}`, lossPerDay: c.lossPerDay, downHours: c.downDays * 24, holders: c.holders, stripes: c.stripes, days: c.days, simulatedLosses: losses, closedForm: round(expected), exactChain: round(exact), simOverClosedForm: round(losses / expected), simOverExact: round(losses / exact), seconds: Math.round(performance.now() - t) / 1000 }
  rows.push(row)
  console.log(JSON.stringify(row))
}
console.log(`total ${Math.round(performance.now() - started) / 1000} s`)
mkdirSync(new URL('../bench/results/', import.meta.url), { recursive: true })
writeFileSync(new URL('../bench/results/durability.json', import.meta.url), JSON.stringify(rows, null, 2) + '\n')
