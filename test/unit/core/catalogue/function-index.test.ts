import { describe, expect, it } from 'vitest'
import { FunctionIndex } from '../../../../src/core/catalogue/index.ts'
import type { FunctionManifest } from '../../../../src/core/registry/index.ts'
import { DEFAULT_LIMITS } from '../../../../src/core/sandbox/index.ts'

const PUB = (n: number): string => n.toString(16).padStart(2, '0').repeat(32)

function manifest (publisher: string, name: string, over: Partial<FunctionManifest> = {}): FunctionManifest {
  return {
    name,
    version: '1.0.0',
    moduleHash: 'cd'.repeat(32),
    size: 100,
    abi: 'raw',
    limits: { ...DEFAULT_LIMITS },
    access: [],
    price: { base: 0, curve: [1_000_000, 1_000_000, 1_000_000, 1_000_000] },
    publisher,
    createdAt: 1_700_000_000_000,
    blob: { key: 'ab'.repeat(32), start: 0, length: 1 },
    ...over
  }
}

describe('function index', () => {
  it('lists one entry per publisher and name with its summary, replacing an older version', () => {
    const index = new FunctionIndex()
    index.put(manifest(PUB(1), 'upper', { description: 'Upper-cases text', examples: [{ input: 'a', output: 'A' }] }))
    index.put(manifest(PUB(1), 'upper', { version: '1.1.0', description: 'Upper-cases text, faster' }))
    index.put(manifest(PUB(2), 'gated', { access: [{ chain: 'ethereum', method: 'eth_getBalance' }, { operator: 'and' }, { chain: 'base' }], authDomains: ['app.test'] }))
    index.addHolder(PUB(1), 'peer-a')
    index.addHolder(PUB(1), 'peer-b')
    index.addHolder(PUB(1), 'peer-a')
    expect(index.size).toBe(2)
    expect(index.get(PUB(1), 'upper')).toEqual({
      ref: `${PUB(1)}/upper@1.1.0`,
      publisher: PUB(1),
      name: 'upper',
      version: '1.1.0',
      description: 'Upper-cases text, faster',
      abi: 'raw',
      price: { base: 0, curve: [1_000_000, 1_000_000, 1_000_000, 1_000_000] },
      access: { public: true, conditions: 0, chains: [] },
      holders: 2,
      size: 100,
      examples: 0,
      readme: false,
      createdAt: 1_700_000_000_000
    })
    expect(index.get(PUB(2), 'gated')?.access).toEqual({ public: false, conditions: 3, chains: ['base', 'ethereum'], authDomains: ['app.test'] })
    index.dropHolder('peer-a')
    expect(index.get(PUB(1), 'upper')?.holders).toBe(1)
  })

  it('searches name, description and publisher prefix, case-insensitively, in pages with a cursor', () => {
    const index = new FunctionIndex()
    for (const name of ['alpha', 'beta', 'gamma', 'delta', 'epsilon']) index.put(manifest(PUB(3), name, { description: `Greek letter ${name.toUpperCase()}` }))
    index.put(manifest(PUB(4), 'hash', { description: 'SHA-256 of the input' }))
    expect(index.search('sha').functions.map(f => f.name)).toEqual(['hash'])
    expect(index.search('LETTER E').functions.map(f => f.name)).toEqual(['epsilon'])
    expect(index.search(PUB(4).slice(0, 10)).functions.map(f => f.name)).toEqual(['hash'])
    const first = index.search('greek', { limit: 2 })
    expect([first.functions.map(f => f.name), first.next]).toEqual([['alpha', 'beta'], `beta/${PUB(3)}`])
    const second = index.search('greek', { limit: 2, cursor: first.next })
    const third = index.search('greek', { limit: 2, cursor: second.next })
    expect([second.functions.map(f => f.name), third.functions.map(f => f.name), third.next]).toEqual([['delta', 'epsilon'], ['gamma'], null])
    expect(index.search('', { limit: 1000 }).functions.length).toBe(6)
  })

  it('holds its count bound, evicting the entry held by the fewest executors, oldest first', () => {
    const index = new FunctionIndex({ maxEntries: 3 })
    index.addHolder(PUB(5), 'p1')
    index.addHolder(PUB(5), 'p2')
    index.put(manifest(PUB(5), 'popular'))
    index.put(manifest(PUB(6), 'old'))
    index.put(manifest(PUB(6), 'newer'))
    index.put(manifest(PUB(7), 'newest'))
    expect(index.search('').functions.map(f => f.name)).toEqual(['newer', 'newest', 'popular'])
    // a newcomer held by fewer executors than everything indexed is not let in
    const full = new FunctionIndex({ maxEntries: 1 })
    full.addHolder(PUB(5), 'p1')
    full.put(manifest(PUB(5), 'popular'))
    expect(full.put(manifest(PUB(8), 'nobody-serves-me'))).toBe(false)
    expect([full.size, full.get(PUB(5), 'popular')?.name]).toEqual([1, 'popular'])
  })

  it('holds its byte bound whatever the entries hold', () => {
    const index = new FunctionIndex({ maxBytes: 4096 })
    for (let i = 0; i < 200; i++) index.put(manifest(PUB(9), `fn-${i}`, { description: 'x'.repeat(280) }))
    expect(index.bytes).toBeLessThanOrEqual(4096)
    expect(index.size).toBeGreaterThan(0)
    // the newest are the ones kept
    expect(index.get(PUB(9), 'fn-199')?.name).toBe('fn-199')
    expect(index.get(PUB(9), 'fn-0')).toBe(null)
  })
})
