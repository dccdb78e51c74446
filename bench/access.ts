/**
 * Chain-gated authorisation on a real EVM node (Hardhat's, on loopback, started as the tests
 * do): `AccessGate.authorize` for an ERC-20 condition with the decision cached (warm) and
 * with one uncached chain read (cold: the head is cached, the `balanceOf` call is not), each
 * as a ratio to a raw `eth_call` of the same `balanceOf` on the same endpoint in the same
 * run; and the time a requester takes to get a 3-of-5 condition-gated key (five holders
 * check and release in parallel, three shares opened and combined), in process and over the
 * wire (bench/access-keys.ts, with a rotation of the shares).
 * Printed and written to bench/results/access.json. `npm run bench -- access`
 */
import '../test/helpers/quiet-lit.ts'
import { mkdirSync, writeFileSync } from 'node:fs'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { encodeFunctionData, parseAbi } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import {
  AccessGate, ChainGate, ChainReader, ephemeralKeyPair, KeyHolder, openShare, rebuildKey, signAuth, splitKey
} from '../src/core/access/index.ts'
import { HARDHAT_CHAIN, startEvmNode } from '../test/helpers/evm.ts'
import { keysOverWire } from './access-keys.ts'

/** Samples per figure: enough for a stable median on a noisy 2-core box, few enough for a minute. */
const SAMPLES = 60
const RESULTS = new URL('./results/access.json', import.meta.url)
const FN = { publisher: 'ab'.repeat(32), name: 'gated', version: '1.0.0' }
const DOMAIN = 'bench.shadw.test'

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number

/** Runs the benchmark; prints and writes bench/results/access.json. */
export async function runAccessBench (): Promise<void> {
  const evm = await startEvmNode()
  try {
    const token = await evm.deploy('Token20', [10n ** 24n])
    const access = [{ conditionType: 'evmBasic', contractAddress: token, standardContractType: 'ERC20', chain: HARDHAT_CHAIN, method: 'balanceOf', parameters: [':userAddress'], returnValueTest: { comparator: '>=', value: '0' } }]
    const reader = new ChainReader({ endpoints: { [HARDHAT_CHAIN]: [evm.url] }, readsPerMinute: 1_000_000 })
    const gate = new AccessGate({ domain: DOMAIN, chain: new ChainGate({ reader, headTtlMs: 3_600_000 }) })
    const tenants = Array.from({ length: SAMPLES * 2 + 1 }, () => privateKeyToAccount(generatePrivateKey()))
    const signer = (a: typeof tenants[number]): { getAddress: () => Promise<string>, signMessage: (m: string) => Promise<string> } =>
      ({ getAddress: async () => a.address, signMessage: async message => await a.signMessage({ message }) })
    const auths = await Promise.all(tenants.map(async t => await signAuth(signer(t), { domain: DOMAIN, fn: FN })))
    const warmAuths = await Promise.all(Array.from({ length: SAMPLES }, async () => await signAuth(signer(tenants[0]!), { domain: DOMAIN, fn: FN })))
    await gate.authorize({ fn: FN, access, auth: auths[0] }) // pins the head, caches tenant 0

    const data = encodeFunctionData({ abi: parseAbi(['function balanceOf(address) view returns (uint256)']), functionName: 'balanceOf', args: [tenants[0]!.address] })
    const raw: number[] = []
    const cold: number[] = []
    const warm: number[] = []
    for (let i = 0; i < SAMPLES; i++) {
      let t = performance.now()
      await evm.client.call({ to: token, data })
      raw.push(performance.now() - t)
      t = performance.now()
      await gate.authorize({ fn: FN, access, auth: auths[i + 1] })
      cold.push(performance.now() - t)
      t = performance.now()
      await gate.authorize({ fn: FN, access, auth: warmAuths[i] })
      warm.push(performance.now() - t)
    }

    // 3 of 5 holders, each with its own gate over the same endpoint
    const key = crypto.randomBytes(32)
    const shares = await splitKey(key, 3, 5)
    const holders = shares.map(share => new KeyHolder({ share, fn: FN, access, gate: new AccessGate({ domain: DOMAIN, chain: new ChainGate({ reader, headTtlMs: 3_600_000 }) }), keyPair: crypto.keyPair() }))
    const release: number[] = []
    for (let i = 0; i < 20; i++) {
      const auth = await signAuth(signer(tenants[SAMPLES + 1 + i]!), { domain: DOMAIN, fn: FN })
      const t = performance.now()
      const ephemeral = ephemeralKeyPair()
      const released = await Promise.all(holders.map(async h => await h.release({ auth, to: ephemeral.publicKey })))
      const rebuilt = await rebuildKey(released.slice(0, 3).map(r => openShare(r.sealed, ephemeral)))
      release.push(performance.now() - t)
      if (!b4a.equals(rebuilt, key)) throw new Error('rebuilt the wrong key')
    }

    const freshAuth = async (): Promise<unknown> => await signAuth(signer(privateKeyToAccount(generatePrivateKey())), { domain: DOMAIN, fn: FN })
    const wire = await keysOverWire({ reader, access, fn: FN, domain: DOMAIN, fetches: 20, rotations: 5, auth: freshAuth })

    const result = {
      samples: SAMPLES,
      rawEthCallMs: median(raw),
      authorizeColdMs: median(cold),
      authorizeWarmMs: median(warm),
      coldOverRaw: median(cold) / median(raw),
      warmOverRaw: median(warm) / median(raw),
      keyRelease3of5Ms: median(release),
      keyFetch3of5OverWireMs: wire.fetchMs,
      keyRotate5OverWireMs: wire.rotateMs
    }
    process.stdout.write(`chain-gated authorisation on a loopback Hardhat node (median of ${SAMPLES})\n`)
    process.stdout.write(`  raw eth_call:            ${result.rawEthCallMs.toFixed(2)} ms\n`)
    process.stdout.write(`  authorize, cold read:    ${result.authorizeColdMs.toFixed(2)} ms  (${result.coldOverRaw.toFixed(2)}× raw)\n`)
    process.stdout.write(`  authorize, warm cache:   ${result.authorizeWarmMs.toFixed(2)} ms  (${result.warmOverRaw.toFixed(2)}× raw)\n`)
    process.stdout.write(`  key release, 3 of 5:     ${result.keyRelease3of5Ms.toFixed(2)} ms (median of 20; five holders checking in parallel)\n`)
    process.stdout.write(`  key fetch over the wire: ${result.keyFetch3of5OverWireMs.toFixed(2)} ms (3 of 5 holders on a loopback testnet, median of 20)\n`)
    process.stdout.write(`  rotation over the wire:  ${result.keyRotate5OverWireMs.toFixed(2)} ms (3 old holders re-deal to 5, median of 5)\n`)
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
    writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n')
  } finally {
    await evm.stop()
  }
}
