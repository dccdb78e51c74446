import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS, instrumentedKey, METERING_VERSION, ModuleCache, runModule, sha256Hex, type InstrumentedEntry, type InstrumentedHit, type InstrumentedStore, type PrepareEvent } from '../../../../src/core/sandbox/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'

/** A store in memory, as a reload's next worker would find it (no DOM here: Cache Storage is the browser's). */
class MemoryStore implements InstrumentedStore {
  readonly entries = new Map<string, InstrumentedEntry>()
  async get (key: string): Promise<InstrumentedHit | null> { return this.entries.get(key) ?? null }
  async put (key: string, entry: InstrumentedEntry): Promise<void> { this.entries.set(key, entry) }
}

async function until (fn: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !fn(); i++) await new Promise(resolve => setTimeout(resolve, 10))
}

describe('instrumented store', () => {
  it('a fresh module cache takes a module instrumented by an earlier one from the store: same output and fuel, no instrumentation', async () => {
    const bytes = await wat('echo')
    const hash = await sha256Hex(bytes)
    const store = new MemoryStore()
    const events: PrepareEvent[] = []
    const input = new TextEncoder().encode('hi')
    const run = async (cache: ModuleCache): Promise<{ output: string, fuel: number }> => {
      const prepared = await cache.get(hash, 'raw', 4, bytes)
      if (prepared === undefined) throw new Error('no module')
      const r = runModule(await prepared, { abi: 'raw', input, args: [], env: [], seed: 0, limits: { ...DEFAULT_LIMITS, memoryPages: 4 } })
      return { output: new TextDecoder().decode(r.output), fuel: r.fuelUsed }
    }
    const first = await run(new ModuleCache(4, { store, onPrepare: e => events.push(e) }))
    await until(() => store.entries.size === 1)
    expect([...store.entries.keys()]).toEqual([instrumentedKey(hash, 'raw', 4)])
    expect(instrumentedKey(hash, 'raw', 4)).toContain(`v${METERING_VERSION}/`)
    const second = await run(new ModuleCache(4, { store, onPrepare: e => events.push(e) }))
    expect(second).toEqual(first)
    expect(first.output).toBe('hi')
    expect(events.map(e => e.source)).toEqual(['instrumented', 'store'])
  })

  it('bytes that do not match the hash are refused before the store is asked', async () => {
    const bytes = await wat('echo')
    const store = new MemoryStore()
    const cache = new ModuleCache(4, { store })
    await expect(cache.get('0'.repeat(64), 'raw', 4, bytes)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(store.entries.size).toBe(0)
  })
})
