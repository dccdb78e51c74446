/**
 * A light node's signing service restarting on a long attestations log of its own
 * (src/attest/signing-service.ts start): the log is read from local storage in bounded
 * batches, never waiting on the network per block, and what it attested before is still
 * never judged again.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { encodeAttestation, signAttestation } from '../../../../src/core/ledger/index.ts'
import { LightSigningService, type SigningServiceOptions } from '../../../../src/core/attest/index.ts'
import { MAX_JUDGED, START_READ_BATCH } from '../../../../src/core/attest/signing-service.ts'
import { encodeReceipt, receiptHash, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { sha256 } from '../../../../src/core/sha256.ts'
import { MemorySigningHost, OWN_LOG_KEY } from '../../../helpers/memory-signing-host.ts'
import { testReceipt } from '../../../helpers/receipts.ts'

const ATTESTATIONS = OWN_LOG_KEY

/** The fake host, recording how the service reads its own log. */
class ReadCountingHost extends MemorySigningHost {
  readonly reads: Array<{ index: number, wait: boolean | undefined }> = []
  inFlight = 0
  maxInFlight = 0

  override async get (key: string, index: number, opts: { wait?: boolean } = {}): Promise<Uint8Array | null> {
    if (key === ATTESTATIONS) this.reads.push({ index, wait: opts.wait })
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    // a storage read completes later, so reads issued together overlap
    await Promise.resolve()
    this.inFlight--
    return await super.get(key, index)
  }
}

const OUTPUT = sha256(b4a.from('right'))

function receiptOf (kp: { publicKey: Uint8Array, secretKey: Uint8Array }, nonce: number): SignedReceipt {
  return testReceipt(kp, { outputHash: OUTPUT, nonce: nonce.toString(16).padStart(64, '0') })
}

/** Elapses fake time in steps, so the judgements the timers start (and their appends) settle. */
async function elapse (ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms)
}

describe('signing service start on a long attestations log', () => {
  beforeEach(() => { vi.useFakeTimers() })
  afterEach(() => { vi.useRealTimers() })

  it('reads 3,000 earlier attestations from local storage in batches of START_READ_BATCH, and a receipt attested before is not judged again while its quorum partner is', async () => {
    const host = new ReadCountingHost()
    const lightKeys = crypto.keyPair()
    const a = crypto.keyPair()
    const b = crypto.keyPair()
    const COUNT = 3_000
    // the call attested first, so a reader that kept only the newest would forget it
    const earlier = [receiptOf(a, 0)]
    for (let i = 1; i < COUNT; i++) earlier.push(receiptOf(b, 1_000_000 + i))
    host.write(ATTESTATIONS, ...earlier.map(r => encodeAttestation(signAttestation(r, 'agree', 'quorum', lightKeys, 1))))

    const service = new LightSigningService({ host: host as unknown as SigningServiceOptions['host'], keyPair: lightKeys, sampleRate: 0, settleMs: 50 })
    await service.start()
    expect(service.attestationsKey).toBe(ATTESTATIONS)
    expect(host.reads).toHaveLength(COUNT)
    expect(host.reads.every(r => r.wait === false)).toBe(true)
    expect(new Set(host.reads.map(r => r.index)).size).toBe(COUNT)
    expect(host.maxInFlight).toBeLessThanOrEqual(START_READ_BATCH)
    expect(host.maxInFlight).toBeGreaterThan(1)

    // the same call from two executors: A's receipt was attested in the earlier session, B's is new
    const ledgerA = b4a.toString(crypto.keyPair().publicKey, 'hex')
    const ledgerB = b4a.toString(crypto.keyPair().publicKey, 'hex')
    const again = earlier[0] as SignedReceipt
    const partner = receiptOf(b, 0)
    host.write(ledgerA, encodeReceipt(again))
    host.write(ledgerB, encodeReceipt(partner))
    await service.watch(ledgerA)
    await service.watch(ledgerB)
    await elapse(500)
    expect(service.signed.map(s => s.receiptHash)).toEqual([receiptHash(partner)])
    expect(host.logInfo(ATTESTATIONS).length).toBe(COUNT + 1)
    service.stop()
  })

  it('reads only the newest MAX_JUDGED attestations: older ones would be forgotten by the judged set anyway', async () => {
    const host = new ReadCountingHost()
    // the blocks' content does not matter here, only which indexes are read
    const filler = b4a.alloc(1)
    host.logs.set(ATTESTATIONS, new Array<Uint8Array>(MAX_JUDGED + 10).fill(filler))
    const service = new LightSigningService({ host: host as unknown as SigningServiceOptions['host'], keyPair: crypto.keyPair() })
    await service.start()
    expect(host.reads).toHaveLength(MAX_JUDGED)
    expect(host.reads.reduce((min, r) => Math.min(min, r.index), Infinity)).toBe(10)
    service.stop()
  })

  it('a service stopped while reading its log does not start', async () => {
    const host = new ReadCountingHost()
    host.logs.set(ATTESTATIONS, new Array<Uint8Array>(START_READ_BATCH * 4).fill(b4a.alloc(1)))
    const service = new LightSigningService({ host: host as unknown as SigningServiceOptions['host'], keyPair: crypto.keyPair() })
    const starting = service.start()
    service.stop()
    await starting
    expect(service.attestationsKey).toBeNull()
    expect(host.reads.length).toBeLessThan(START_READ_BATCH * 4)
  })
})
