import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { ReputationTracker, type ReputationTrackerOptions } from '../../../../src/core/reputation/reputation-tracker.ts'

describe('ReputationTracker', () => {
  it('forgets a log it cannot follow (e.g. the node is stopping) instead of an unhandled rejection, and tries again on the next announcement', async () => {
    let follows = 0
    // a narrow fake of our own host interface: only follow() is reached before it throws
    const host = {
      follow: async () => { follows++; throw ShadwError.NODE_CLOSED() }
    } as unknown as ReputationTrackerOptions['host']
    const tracker = new ReputationTracker({ host })
    const key = 'ab'.repeat(32)
    await expect(tracker.track(key)).resolves.toBeUndefined()
    await expect(tracker.track(key)).resolves.toBeUndefined()
    expect(follows).toBe(2)
    tracker.stop()
    await tracker.track(key)
    expect(follows).toBe(2)
  })
})

describe('LightSigningService', () => {
  it('forgets a ledger it cannot follow instead of an unhandled rejection, and tries again later', async () => {
    const { LightSigningService } = await import('../../../../src/core/attest/signing-service.ts')
    const { createPublisherKeyPair } = await import('../../../../src/core/registry/index.ts')
    let follows = 0
    const host = { follow: async () => { follows++; throw ShadwError.NODE_CLOSED() } } as unknown as ConstructorParameters<typeof LightSigningService>[0]['host']
    const kp = createPublisherKeyPair()
    const service = new LightSigningService({ host, keyPair: { publicKey: kp.publicKey, secretKey: kp.secretKey } })
    await expect(service.watch('cd'.repeat(32))).resolves.toBeUndefined()
    await expect(service.watch('cd'.repeat(32))).resolves.toBeUndefined()
    expect(follows).toBe(2)
  })
})
