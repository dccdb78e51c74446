/**
 * Calls through a super node's own HTTP gateway that wait on function lookups: they hold no
 * slot in the node's view of its own executor, and each HTTP client (by address) has its own
 * share of the lookups, so one client can neither starve execution nor take every lookup.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'
import { fnFrom } from '../../helpers/fn-from.ts'
import { publisher } from '../../helpers/invoke.ts'
import { startSuperNode } from '../../helpers/super-node.ts'

/** A ref to a publisher that exists nowhere. */
function nobodys (): string {
  return `${b4a.toString(crypto.randomBytes(32), 'hex')}/ghost@1.0.0`
}

describe('gateway calls waiting on lookups', () => {
  it('do not make the node look full, and are bounded per HTTP client', async () => {
    // one worker: two slots, as many as the calls that once starved it
    const node = await startSuperNode({ workers: 1 })
    const pub = await publisher({ bootstrap: parseBootstrap(node.info.bootstrap) } as unknown as Testnet)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const url = (r: string): string => new URL(`/fn/${r}`, node.info.appUrl).href
    const warm = await fnFrom(url(ref), 'warm', '127.0.0.3', 30_000)
    expect([warm.status, warm.body]).toEqual([200, 'warm'])

    // four calls from one client naming made-up publishers, waiting out long deadlines
    const ghosts = Array.from({ length: 4 }, async () => await fnFrom(url(nobodys()), 'x', '127.0.0.2', 6_000))
    await new Promise(resolve => setTimeout(resolve, 300))
    // a legitimate call from another client meanwhile runs (not BUSY: the ghosts hold no slot)
    const during = await fnFrom(url(ref), 'during the ghosts', '127.0.0.3', 30_000)
    expect([during.status, during.code, during.body]).toEqual([200, null, 'during the ghosts'])
    // a fifth lookup from the same client is refused at once: its share is taken
    const fifth = await fnFrom(url(nobodys()), 'x', '127.0.0.2', 6_000)
    expect([fifth.status, fifth.code]).toEqual([503, 'BUSY'])
    expect(fifth.body).toContain('this caller has 4 function lookups in flight')
    // another client still gets a lookup of its own (it waits, then ends at its deadline)
    const other = await fnFrom(url(nobodys()), 'x', '127.0.0.4', 1_000)
    expect([other.status, other.code]).toEqual([504, 'DEADLINE_EXCEEDED'])
    for (const g of await Promise.all(ghosts)) expect(g.status).toBe(504)
  }, 90_000)
})
