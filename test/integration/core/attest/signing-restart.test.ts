/**
 * A light node restarting its signing service on a real Hypercore attestations log of a few
 * thousand blocks (src/attest/signing-service.ts start): it reads the log from local storage
 * in batches, and a receipt it attested before is not judged again.
 */
import crypto from 'hypercore-crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ATTESTATIONS_LOG_NAME, LightSigningService } from '../../../../src/core/attest/index.ts'
import { encodeAttestation, signAttestation } from '../../../../src/core/ledger/index.ts'
import { encodeReceipt, receiptHash, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { testReceipt } from '../../../helpers/receipts.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { keyedNode, until } from '../../../helpers/invoke.ts'

function receiptOf (kp: { publicKey: Uint8Array, secretKey: Uint8Array }, nonce: number): SignedReceipt {
  return testReceipt(kp, { nonce: nonce.toString(16).padStart(64, '0') })
}

describe('signing service restart', () => {
  it('starts on a log of 4,000 earlier attestations, and judges the new receipt of a call but not the one it attested before', async () => {
    const net = await testnet()
    const { node, keyPair } = await keyedNode(net, 'light')
    const a = crypto.keyPair()
    const b = crypto.keyPair()
    const COUNT = 4_000
    const earlier = [receiptOf(a, 0)]
    for (let i = 1; i < COUNT; i++) earlier.push(receiptOf(b, 1_000_000 + i))
    const log = await node.createLog(ATTESTATIONS_LOG_NAME)
    await node.append(log.key, earlier.map(r => encodeAttestation(signAttestation(r, 'agree', 'quorum', keyPair, 1))))

    const service = new LightSigningService({ host: node, keyPair, sampleRate: 0, settleMs: 100 })
    onTestFinished(() => { service.stop() })
    await service.start()
    expect(service.attestationsKey).toBe(log.key)
    expect(service.stats().attestations).toBe(COUNT)

    // the ledgers of two executors of one call: A's receipt was attested in the earlier session
    const ledgerA = await node.createLog('ledger-a')
    const ledgerB = await node.createLog('ledger-b')
    const partner = receiptOf(b, 0)
    await node.append(ledgerA.key, [encodeReceipt(earlier[0] as SignedReceipt)])
    await node.append(ledgerB.key, [encodeReceipt(partner)])
    await service.watch(ledgerA.key)
    await service.watch(ledgerB.key)
    await until('the new receipt judged', () => service.signed.length > 0, 20_000)
    expect(service.signed.map(s => s.receiptHash)).toEqual([receiptHash(partner)])
    expect(node.logInfo(log.key).length).toBe(COUNT + 1)
  }, 60_000)
})
