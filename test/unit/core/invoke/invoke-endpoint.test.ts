/**
 * InvokeEndpoint's channel on every connection (its PeerTable over ConnectionChannels), on a
 * real Protomux over an in-memory Noise stream: the two sides exchange capacity adverts and
 * measure the round trip; a successor endpoint on the same connection (a tab switching tier)
 * is paired with the peer again; a stopped endpoint stays stopped and says so.
 */
import NoiseSecretStream from '@hyperswarm/secret-stream'
import b4a from 'b4a'
import type { SwarmConnection } from 'hyperswarm'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { InvokeEndpoint, type InvokeHost } from '../../../../src/core/invoke/index.ts'
import type { NodeTier, PeerStatus } from '../../../../src/core/node/types.ts'
import { openNoisePair } from '../../../helpers/noise-pair.ts'

/** A narrow fake of our own InvokeHost holding one connection. */
function hostOf (conn: NoiseSecretStream): InvokeHost {
  const peer: PeerStatus = { publicKey: '', transport: 'udx', initiator: conn.isInitiator }
  return {
    on: () => () => {},
    connections: () => [[conn as unknown as SwarmConnection, peer]]
  }
}

function endpoint (conn: NoiseSecretStream, tier: NodeTier): InvokeEndpoint {
  const e = new InvokeEndpoint({ host: hostOf(conn), tier })
  onTestFinished(() => { e.stop() })
  return e
}

/** Waits for `fn`, a bounded number of short turns. */
async function until (what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !fn(); i++) await new Promise(resolve => setTimeout(resolve, 10))
  if (!fn()) throw new Error(`timed out waiting until ${what}`)
}

async function failure (p: Promise<unknown>): Promise<ShadwError> {
  try { await p } catch (err) { if (err instanceof ShadwError) return err; throw err }
  throw new Error('expected a typed error')
}

describe('InvokeEndpoint channels', () => {
  it('both sides hear each other\'s advert and measure the round trip; a successor on the same connection is paired again', async () => {
    const [x, y] = await openNoisePair()
    const a = endpoint(x, 'light')
    const b = endpoint(y, 'light')
    a.start()
    b.start()
    // start() is safe to call twice
    a.start()
    const heard = (e: InvokeEndpoint): boolean => { const p = e.peers()[0]; return p !== undefined && p.capacity !== null && p.rtt !== null }
    await until('both adverts heard and both round trips measured', () => heard(a) && heard(b))
    expect(a.peers()).toHaveLength(1)
    expect(a.peers()[0]).toMatchObject({ key: b4a.toString(y.publicKey, 'hex'), capacity: { type: 'capacity', free: 0, total: 0, cpuBudget: 100, tier: 'light' }, inflight: 0, dissents: 0, full: true })
    expect(b.peers()[0]?.key).toBe(b4a.toString(x.publicKey, 'hex'))

    // a tab switching tier: its endpoint stops and a new one starts on the same connection
    b.stop()
    await until('the peer is gone from the table', () => a.peers().length === 0)
    const b2 = endpoint(y, 'shadow')
    b2.start()
    await until('the successor\'s advert heard', () => a.peers()[0]?.capacity?.tier === 'shadow')
    expect(b2.peers()).toHaveLength(1)
    // and the other side's successor is answered by this one's pairing
    a.stop()
    await until('the successor lost its peer', () => b2.peers().length === 0)
    const a2 = endpoint(x, 'storm')
    a2.start()
    await until('the second successor\'s advert heard', () => b2.peers()[0]?.capacity?.tier === 'storm')
    expect(a2.peers()[0]?.capacity?.tier).toBe('shadow')
  })

  it('a stopped endpoint refuses calls and waits with NODE_CLOSED, wakes its waiters, and does not start again', async () => {
    const [x, y] = await openNoisePair()
    const a = endpoint(x, 'light')
    const b = endpoint(y, 'light')
    a.start()
    b.start()
    await until('the peer\'s advert heard', () => a.peers()[0]?.capacity?.tier === 'light')
    // no executor among the peers: this waits until stop wakes it
    const waiting = failure(a.waitForExecutors(1, { timeoutMs: 30_000 }))
    a.stop()
    expect((await waiting).code).toBe('NODE_CLOSED')
    expect(a.peers()).toEqual([])
    expect((await failure(a.invoke(`${'ab'.repeat(32)}/echo@1.0.0`, b4a.from('x')))).code).toBe('NODE_CLOSED')
    a.start()
    await new Promise(resolve => setTimeout(resolve, 50))
    expect(a.peers()).toEqual([])
    await until('the peer lost it', () => b.peers().length === 0)
  })
})
