/**
 * Super nodes only wait to be dialled on the network topic, and Hyperswarm looks a topic up
 * again only every 10 minutes: a node must look again by itself (ShadwNode, REDISCOVER_*_MS)
 * or it never sees a super node that started after it.
 */
import { describe, expect, it } from 'vitest'
import { REDISCOVER_FIRST_MS } from '../../../../src/core/node/topics.ts'
import { testnet, testNode } from '../../../helpers/testnet.ts'

/** Bound on the wait: the first lookups after a start come at 1, 3, 7 and 15 s. */
const FIND_MS = 30_000

describe('network topic rediscovery', () => {
  it('a light node finds a super node that started after it, and so does a shadow node', async () => {
    // lookups come 1, 3, 7, 15 s after the start: four of them fit in the bound
    expect(FIND_MS).toBeGreaterThan(15 * REDISCOVER_FIRST_MS)
    const net = await testnet()
    const light = await testNode(net, { tier: 'light' })
    const shadow = await testNode(net, { tier: 'shadow' })
    const late = await testNode(net, { tier: 'super' })
    const sees = (n: typeof light): boolean => n.connections().some(([, p]) => p.publicKey === late.publicKey)
    const end = Date.now() + FIND_MS
    while ((!sees(light) || !sees(shadow)) && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 100))
    expect(sees(light)).toBe(true)
    expect(sees(shadow)).toBe(true)
  }, FIND_MS + 10_000)
})
