/**
 * The hostile-input corpus (test/fixtures/hostile): every case goes through the real entry
 * point and must end in exactly its expected error code, with no crash (an untyped error is
 * a crash) and, for cases that target stored state, nothing already stored lost or changed.
 */
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signAuth } from '../../../src/core/access/siwe-auth.ts'
import { verifyFunction } from '../../../src/core/registry/index.ts'
import { CORPUS, type HostileCase } from '../../fixtures/hostile/cases.ts'
import '../../helpers/quiet-lit.ts'
import { Harness, loadCases, loadKnownBugs } from './harness.ts'

const cases = loadCases()
const knownBugs = loadKnownBugs()
const regular = cases.filter(k => !knownBugs.has(k.id))
const byTarget = new Map<string, HostileCase[]>()
for (const k of regular) byTarget.set(k.target, [...(byTarget.get(k.target) ?? []), k])

let harness: Harness
beforeAll(async () => {
  const alice = new Wallet(CORPUS.alice)
  const goodAuth = await signAuth(alice, { domain: CORPUS.domain, fn: CORPUS.fn, issuedAt: CORPUS.issuedAt, nonce: 'corpusgoodauth' })
  harness = new Harness(alice.address, goodAuth)
})
afterAll(async () => { await harness.close() })

describe('hostile corpus', () => {
  it('holds at least 200 cases with unique ids, each with a known target and an expected code', () => {
    expect(cases.length).toBeGreaterThanOrEqual(200)
    expect(new Set(cases.map(k => k.id)).size).toBe(cases.length)
    for (const k of cases) expect(k.expect).toMatch(/^([A-Z_]+|close:\d{4}|open)$/)
  })

  for (const [target, list] of byTarget) {
    describe(target, () => {
      it.each(list.map(k => [k.id, k] as const))('%s', async (_id, k) => {
        expect(await harness.run(k)).toBe(k.expect)
      })
    })
  }

  it('the registry still serves its good version, unchanged, after every refused publish', async () => {
    if (!byTarget.has('registry.publish')) return
    const { registry, good, lengths } = await harness.registryFor()
    expect(registry.core.length).toBe(lengths.core)
    expect(await registry.versions('echo')).toEqual([{ version: '1.0.0', yanked: false }])
    expect(await registry.resolve('echo', '^1.0.0')).toBe('1.0.0')
    const stored = await registry.manifest('echo', '1.0.0')
    expect(stored).not.toBeNull()
    const fn = await verifyFunction(stored as Uint8Array, good, { registryKey: registry.key, expect: { name: 'echo', version: '1.0.0' } })
    expect(fn.manifest.moduleHash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('the executor still runs a good call after every hostile module', async () => {
    const executor = await harness.executorFor()
    const r = await executor.execute({ module: (await harness.registryFor()).good, abi: 'raw', input: new TextEncoder().encode('alive') })
    expect(new TextDecoder().decode(r.output)).toBe('alive')
  })

  it('the relay still connects two clients after every hostile frame, and counted each as an error', async () => {
    if (!byTarget.has('relay.frame')) return
    expect(await harness.relayStillServes()).toBe(true)
    const { relay } = await harness.relayFor()
    const frames = byTarget.get('relay.frame') ?? []
    expect(relay.stats()).toMatchObject({
      errors: frames.filter(k => k.expect === 'close:1002' || k.expect === 'close:1009').length,
      timedOut: frames.filter(k => k.expect === 'close:1008').length
    })
  })

  it('reports the known bugs it does not fail on', async () => {
    const report: string[] = []
    for (const k of cases.filter(c => knownBugs.has(c.id))) {
      const got = await harness.run(k)
      report.push(`${k.id}: expected ${k.expect}, got ${got}${got === k.expect ? ' (FIXED: remove it from known-bugs.json)' : ''} — ${knownBugs.get(k.id) ?? ''}`)
    }
    if (report.length > 0) console.warn(`hostile corpus: ${report.length} known bug case(s)\n  ` + report.join('\n  '))
  })
})
