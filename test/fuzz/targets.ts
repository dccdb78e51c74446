/**
 * Every decoder that reads data from a peer, a page, a worker or a file, as a fuzz target:
 * the codes it may refuse with, an input generator (random values plus mutations of valid
 * seeds), and, where an encoder exists, a round-trip property. Shared by `npm run fuzz`
 * (test/fuzz/run.ts) and the fixed-seed slice in test/unit/fuzz.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import fc from 'fast-check'
import { Wallet } from 'ethers'
import { checkConditions } from '../../src/core/access/conditions.ts'
import { signAuth, verifyAuth } from '../../src/core/access/siwe-auth.ts'
import { parseBridgeMessage } from '../../src/browser/bridge-protocol.ts'
import { parseNodeWorkerInit } from '../../src/browser/node-worker-protocol.ts'
import { parsePageToWorker, parseWebrtcConfig, parseWorkerToPage } from '../../src/core/links/link-protocol.ts'
import { deserializeError, ShadwError, isErrorCode, type ErrorCode } from '../../src/core/errors.ts'
import { keyToHex } from '../../src/core/keys.ts'
import { decodeSignalMessage, encodeSignalMessage, type SignalMessage } from '../../src/core/links/signal-protocol.ts'
import { decodeMessage, encodeMessage, type InvokeMessage } from '../../src/core/invoke/protocol.ts'
import { decodeReceipt, encodeReceipt, MAX_RECEIPT_BYTES_MOVED, signReceipt, type ReceiptBody } from '../../src/core/ledger/receipt.ts'
import { charge } from '../../src/core/pricing/price-curve.ts'
import { decodeAttestation, encodeAttestation, signAttestation } from '../../src/core/ledger/attestation.ts'
import { decodeMiss, encodeMiss, signMiss } from '../../src/core/ledger/miss.ts'
import { decodeStorageReceipt, encodeStorageReceipt, signStorageReceipt } from '../../src/core/ledger/storage-receipt.ts'
import { cosignStorageOrder, decodeCosignedPin, encodeCosignedPin, parseStorageOrder, signStorageOrder } from '../../src/core/ledger/storage-pin.ts'
import { decodeVerdict, encodeVerdict, signVerdict } from '../../src/core/ledger/proof-verdict.ts'
import { decodeProofMessage } from '../../src/core/pinning/proof-protocol.ts'
import { decodeAudit, encodeAudit } from '../../src/core/attest/audit-message.ts'
import { sha256 } from '../../src/core/sha256.ts'
import { parseReplyMessage } from '../../src/core/sandbox/worker-envelope.ts'
import { canonicalJson, parseCanonicalJson } from '../../src/core/registry/canonical-json.ts'
import { formatFunctionRef, parseFunctionRef } from '../../src/core/registry/function-ref.ts'
import { decodeManifest, decodeSignedManifest, encodeSignedManifest, signManifest, type FunctionManifest } from '../../src/core/registry/manifest.ts'
import { openTombstone, signTombstone } from '../../src/core/registry/tombstone.ts'
import { checkAbi } from '../../src/core/sandbox/abi-check.ts'
import { instrumentModule } from '../../src/core/sandbox/instrument.ts'
import { DEFAULT_LIMITS } from '../../src/core/sandbox/limits.ts'
import { parseWorkerReply, parseWorkerRequest } from '../../src/core/sandbox/protocol.ts'
import { parseModule } from '../../src/core/sandbox/wasm-module.ts'
import { cWasm, wat } from '../fixtures/wasm/fixtures.ts'

/** One decoder under fuzz. */
export interface FuzzTarget {
  name: string
  /** every code the decoder may refuse with */
  codes: ReadonlySet<ErrorCode>
  /** random and mutated inputs, bounded in size so one input cannot take long */
  input: fc.Arbitrary<unknown>
  run (input: unknown): unknown
  /** encode-then-decode gives back the value, when an encoder exists */
  roundTrip?: fc.IPropertyWithHooks<[unknown]> | fc.IAsyncPropertyWithHooks<[unknown]>
  /** a non-ShadwError this target is known to throw (a reported bug), matched on message */
  knownBug?: { message: RegExp, where: string }
}

const codes = (...c: ErrorCode[]): ReadonlySet<ErrorCode> => new Set(c)

// ---------- generic generators ----------

/** Byte-level mutations of a seed: flips, overwrites with boundary values, cuts, splices. */
function mutatedBytes (seeds: Uint8Array[], maxExtra = 64): fc.Arbitrary<Uint8Array> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, 0xfd, 0xfc) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: maxExtra }) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) })
  )
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([seed, edits]) => {
    let b = Uint8Array.from(seed)
    for (const e of edits) {
      if (b.length === 0) break
      const at = e.at % b.length
      switch (e.kind) {
        case 'flip': b[at]! ^= 1 << e.bit; break
        case 'set': b[at] = e.value; break
        case 'cut': b = b.subarray(0, at); break
        case 'insert': b = Uint8Array.from([...b.subarray(0, at), ...e.bytes, ...b.subarray(at)]); break
        case 'delete': b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + e.count)]); break
      }
    }
    return b
  })
}

/** Random bytes, mutated seeds, and seeds with random tails. */
function bytesInput (seeds: Uint8Array[], maxLength = 4096): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength }) },
    { weight: 4, arbitrary: mutatedBytes(seeds) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...seeds), fc.uint8Array({ maxLength: 64 })).map(([s, t]) => b4a.concat([s, t])) }
  )
}

/** Values no well-behaved sender produces: prototype keys, objects that refuse to stringify, odd numbers. */
const oddValue: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  null, undefined, 0, -0, -1, 1.5, Number.NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 31), '', ' ', '\u0000', 'x'.repeat(300),
  '__proto__', 'constructor', true, false, [], {}, [[]], { __proto__: null }, new Uint8Array(3), { length: 1e9 }
)
/** Any JSON-like value, with odd values mixed in at every depth. */
const anyValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>(tie => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }),
    oddValue,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('type', 'id', 'method', 'params', 'ok', 'name', 'signal', 'link', 'toString', 'valueOf')), tie('v'), { maxKeys: 5 })
  )
})).v

/**
 * A valid seed object with fields replaced by, or added as, random values. Keys include
 * `toString`, so objects that refuse to become strings reach every parser.
 */
function mutatedObject (seeds: Array<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.oneof(fc.constantFrom(...new Set(seeds.flatMap(s => Object.keys(s)))), fc.string({ maxLength: 6 })), anyValue), { minLength: 1, maxLength: 3 }))
    .map(([seed, edits]) => {
      const o: Record<string, unknown> = { ...seed }
      for (const [k, v] of edits) o[k] = v
      return o
    })
}

function objectInput (seeds: Array<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: mutatedObject(seeds) }, { weight: 1, arbitrary: anyValue }, { weight: 1, arbitrary: fc.constantFrom<unknown>(...seeds) })
}

// ---------- seeds ----------

const hex = (n: number, seed: number): string => b4a.toString(new Uint8Array(n).fill(seed), 'hex')

/** Everything async the targets need (compiled modules, signatures); built once. */
export async function loadTargets (): Promise<FuzzTarget[]> {
  const modules = [await wat('echo'), await wat('count'), await wat('imported-memory'), await wat('deep-recursion'), await wat('trivial'), await wat('shared-memory')]
  const bigModules = [...modules, cWasm('raw-upper')]
  const kp = crypto.keyPair(new Uint8Array(32).fill(5))
  const pub = keyToHex(kp.publicKey)
  const manifest: FunctionManifest = {
    name: 'echo',
    version: '1.2.3',
    moduleHash: hex(32, 0xaa),
    size: 100,
    abi: 'raw',
    limits: { ...DEFAULT_LIMITS },
    access: [{ conditionType: 'evmBasic', contractAddress: '', standardContractType: '', chain: 'ethereum', method: '', parameters: [':userAddress'], returnValueTest: { comparator: '=', value: '0x' + '11'.repeat(20) } }],
    price: { base: 3, curve: [1_000_000, 1_200_000, 2_000_000, 5_000_000] },
    publisher: pub,
    createdAt: 1_700_000_000_000,
    blob: { key: hex(32, 0xcd), start: 0, length: 1 }
  }
  const signed = encodeSignedManifest(signManifest(manifest, kp.secretKey))
  const signedPublic = encodeSignedManifest(signManifest({ ...manifest, access: [] }, kp.secretKey))
  const body = signManifest(manifest, kp.secretKey).body
  // body version 2: the publisher's SIWE domain list (docs/access.md)
  const withDomains = { ...manifest, authDomains: ['127.0.0.1:8080', '[::1]:4000', 'app.shadw.test'] }
  const signedDomains = encodeSignedManifest(signManifest(withDomains, kp.secretKey))
  const bodyDomains = signManifest(withDomains, kp.secretKey).body
  const tomb = signTombstone({ name: 'echo', version: '1.2.3', publisher: pub, yankedAt: 1_700_000_000_001, reason: 'broken' }, kp.secretKey)
  const signals: SignalMessage[] = [
    { attempt: 1, signal: { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' } },
    { attempt: 2, signal: { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMLineIndex: 0, sdpMid: '0' } } },
    { attempt: 3, signal: { type: 'bye', reason: 'done' } }
  ]
  const receiptBody: ReceiptBody = {
    fn: `${pub}/echo@1.2.3`,
    manifestSignature: hex(64, 0x11),
    moduleHash: hex(32, 0x22),
    inputHash: hex(32, 0x33),
    outputHash: hex(32, 0x44),
    fuel: 1234,
    executor: pub,
    tenant: '0x' + '12'.repeat(20),
    time: 1_700_000_000_002,
    nonce: hex(32, 0x55),
    deadline: 1_700_000_000_001,
    bytes: 1024,
    price: { utilisationPpm: 250_000, fuelPrice: 12, bytePrice: 3 },
    total: 2
  }
  const signedReceipt = signReceipt(receiptBody, kp.secretKey)
  const receipt = encodeReceipt(signedReceipt)
  const audit = { receipt: signReceipt({ ...receiptBody, inputHash: sha256(b4a.from('hello')) }, kp.secretKey), input: b4a.from('hello') }
  const attestations = [signAttestation(signedReceipt, 'agree', 'quorum', kp, 1_700_000_000_003), signAttestation(signedReceipt, 'disagree', 'reexec', kp, 1_700_000_000_004)]
  const miss = signMiss({ executor: hex(32, 0x66), nonce: hex(32, 0x55), deadline: 1_700_000_000_001, reason: 'timeout', time: 1_700_000_000_005 }, kp)
  const verdict = signVerdict({ kind: 'shard', drive: hex(32, 0x44), target: hex(32, 0x45), stripe: 2, shard: 1, holder: hex(32, 0x46), ok: false, reason: 'chunk 3 does not prove', time: 1_700_000_000_000 }, kp)
  const proofSeeds = [
    { type: 'block', id: 1, key: hex(32, 0x47), length: 24, index: 5 },
    { type: 'query', id: 2, drive: hex(32, 0x44) },
    { type: 'gossip', verdicts: [verdict] },
    { type: 'block-proof', id: 1, answer: { bytes: 'ab', nodes: [], roots: [] } },
    { type: 'refused', id: 1, code: 'SHARD_NOT_HELD', message: 'not here' }
  ].map(m => b4a.from(JSON.stringify(m)))
  const storageReceipt = signStorageReceipt({ kind: 'hold', drive: hex(32, 0x44), pinner: hex(32, 0x33), bytes: 1 << 30, from: 1_700_000_000_000, to: 1_700_000_600_000, price: 1_000 }, kp)
  const storageOrder = signStorageOrder({ drive: hex(32, 0x44), holder: b4a.toString(kp.publicKey, 'hex'), bytes: 1 << 30, time: 1_700_000_000_000, price: 1_000, servePrice: 100 }, kp)
  const storagePin = cosignStorageOrder(storageOrder, kp)
  const invokeSeeds: InvokeMessage[] = [
    { type: 'capacity', id: 0, free: 2, total: 4, cpuBudget: 50, tier: 'storm' },
    { type: 'capacity-query', id: 7 },
    { type: 'request', id: 1, ref: `${pub}/echo@^1.0.0`, input: b4a.from('hello'), nonce: new Uint8Array(32).fill(9), deadline: 1_700_000_005_000, redundancy: 3, auth: null },
    { type: 'result', id: 1, output: b4a.from('hello'), receipt, ledgerKey: new Uint8Array(32).fill(3), ledgerIndex: 12 },
    { type: 'error', id: 1, code: 'FUEL_EXHAUSTED', message: 'out of fuel' },
    { type: 'cancel', id: 1 }
  ]
  const alice = new Wallet('0x' + '11'.repeat(32))
  const fn = { publisher: 'ab'.repeat(32), name: 'hello', version: '1.0.0' }
  const T0 = Date.parse('2026-01-02T03:04:05.000Z')
  const auth = await signAuth(alice, { domain: 'app.shadw.test', fn, issuedAt: T0, nonce: 'fuzznonce01' }) as unknown as Record<string, unknown>
  const authText = auth['signedMessage'] as string
  const cond = manifest.access[0] as Record<string, unknown>

  const targets: FuzzTarget[] = [
    {
      name: 'wasm.parseModule',
      codes: codes('INVALID_MODULE'),
      input: bytesInput(bigModules),
      run: input => parseModule(input as Uint8Array)
    },
    {
      name: 'wasm.checkAbi',
      codes: codes('INVALID_MODULE', 'ABI_MISMATCH'),
      input: fc.tuple(bytesInput(modules), fc.constantFrom('raw' as const, 'wasi' as const)),
      run: input => { const [b, abi] = input as [Uint8Array, 'raw' | 'wasi']; checkAbi(parseModule(b), abi) }
    },
    {
      name: 'wasm.instrumentModule',
      codes: codes('INVALID_MODULE', 'MEMORY_LIMIT', 'ABI_MISMATCH', 'INVALID_ARGUMENT'),
      input: fc.tuple(bytesInput(modules, 512), fc.integer({ min: 0, max: 70_000 })),
      run: input => { const [b, pages] = input as [Uint8Array, number]; return instrumentModule(b, pages) }
    },
    {
      name: 'registry.decodeSignedManifest',
      codes: codes('MANIFEST_INVALID'),
      input: bytesInput([signed, signedPublic, signedDomains]),
      run: input => decodeSignedManifest(input as Uint8Array),
      roundTrip: fc.property(manifestArb(pub), (m: unknown) => {
        const out = decodeSignedManifest(encodeSignedManifest(signManifest(m as FunctionManifest, kp.secretKey))).manifest
        return canonicalJson(out) === canonicalJson(m)
      }) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'registry.decodeManifest',
      codes: codes('MANIFEST_INVALID'),
      input: bytesInput([body, bodyDomains]),
      run: input => decodeManifest(input as Uint8Array)
    },
    {
      name: 'registry.openTombstone',
      codes: codes('MANIFEST_INVALID', 'SIGNATURE_INVALID'),
      input: bytesInput([tomb]),
      run: input => openTombstone(input as Uint8Array, pub),
      roundTrip: fc.property(fc.record({ name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/), reason: fc.string({ maxLength: 100 }), yankedAt: fc.nat() }), (t: unknown) => {
        const x = t as { name: string, reason: string, yankedAt: number }
        const opened = openTombstone(signTombstone({ ...x, version: '1.0.0', publisher: pub }, kp.secretKey), pub).tombstone
        return opened.name === x.name && opened.reason === x.reason && opened.yankedAt === x.yankedAt
      }) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'registry.parseFunctionRef',
      codes: codes('INVALID_FUNCTION_REF'),
      input: fc.oneof(
        fc.string({ maxLength: 300 }),
        fc.tuple(fc.constantFrom(pub, pub.toUpperCase(), pub.slice(1)), fc.string({ maxLength: 70 }), fc.option(fc.string({ maxLength: 140 }))).map(([k, n, r]) => `${k}/${n}${r === null ? '' : '@' + r}`),
        fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,10}$/), fc.constantFrom('1.0.0', '^1.2', '~0.1.0', '>=1 <2', '*', 'x', '1.x || 2')).map(([n, r]) => `${pub}/${n}@${r}`),
        anyValue
      ),
      run: input => parseFunctionRef(input),
      roundTrip: fc.property(fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/), fc.constantFrom('1.0.0', '^1.2.0', '~0.1.0', '>=1.0.0 <2.0.0', '*')), (x: unknown) => {
        const [name, range] = x as [string, string]
        const ref = parseFunctionRef(`${pub}/${name}@${range}`)
        return formatFunctionRef(parseFunctionRef(formatFunctionRef(ref))) === formatFunctionRef(ref)
      }) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'registry.parseCanonicalJson',
      codes: codes('MANIFEST_INVALID'),
      input: fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue({ maxDepth: 4 }).map(v => JSON.stringify(v)), fc.jsonValue({ maxDepth: 3 }).map(v => canonicalJson(v)), fc.constantFrom('['.repeat(100) + ']'.repeat(100), '{"b":1,"a":2}', '1e400', '"\\ud800"')),
      run: input => parseCanonicalJson(input as string),
      roundTrip: fc.property(fc.jsonValue({ maxDepth: 4 }), (v: unknown) => canonicalJson(parseCanonicalJson(canonicalJson(v))) === canonicalJson(v)) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'access.verifyAuth',
      codes: codes('AUTH_MALFORMED', 'AUTH_FORGED', 'AUTH_EXPIRED', 'AUTH_WRONG_DOMAIN', 'AUTH_WRONG_FUNCTION', 'AUTH_REPLAYED'),
      input: fc.oneof(
        objectInput([auth]),
        fc.tuple(mutatedBytes([b4a.from(authText)], 16)).map(([b]) => ({ ...auth, signedMessage: b4a.toString(b, 'utf8') }))
      ),
      run: input => verifyAuth(input, { domain: 'app.shadw.test', fn, now: T0 + 1000 })
    },
    {
      name: 'access.checkConditions',
      codes: codes('ACCESS_CONDITIONS_INVALID'),
      input: fc.oneof(objectInput([cond]).map(c => [c]), anyValue, fc.array(objectInput([cond, { operator: 'or' }, { operator: 'and' }]), { maxLength: 7 })),
      run: async input => await checkConditions(input)
    },
    {
      name: 'bridge.parseBridgeMessage',
      codes: codes('BRIDGE_PROTOCOL'),
      input: objectInput([{ type: 'request', id: 'r1', method: 'status', params: {} }, { type: 'response', id: 'r1', ok: true, value: 1 }, { type: 'event', name: 'status', data: {} }]),
      run: input => parseBridgeMessage(input)
    },
    {
      name: 'bridge.parseNodeWorkerInit',
      codes: codes('BRIDGE_PROTOCOL', 'INVALID_ARGUMENT', 'INVALID_RELAY_URL'),
      input: objectInput([{ type: 'init', relayUrl: 'ws://127.0.0.1:1/relay', storageRoot: 'shadw', leader: 'tab', tier: 'shadow', debug: 'swarm' }]),
      run: input => parseNodeWorkerInit(input)
    },
    {
      name: 'signal.decodeSignalMessage',
      codes: codes('SIGNAL_INVALID'),
      input: fc.oneof(bytesInput(signals.map(encodeSignalMessage), 2048), anyValue),
      run: input => decodeSignalMessage(input),
      roundTrip: fc.property(signalArb, (m: unknown) => {
        const back = decodeSignalMessage(encodeSignalMessage(m as SignalMessage))
        return JSON.stringify(back) === JSON.stringify(m)
      }) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'invoke.decodeMessage',
      codes: codes('INVOKE_PROTOCOL'),
      input: fc.oneof(bytesInput(invokeSeeds.map(encodeMessage), 2048), anyValue),
      run: input => decodeMessage(input),
      roundTrip: fc.property(fc.constantFrom(...invokeSeeds), fc.nat({ max: 2 ** 31 }), (m: InvokeMessage, id: number) => {
        // id 0 is only for unsolicited capacity adverts and channel errors
        const msg = { ...m, id: m.type === 'capacity' || m.type === 'error' ? id : Math.max(1, id) } as InvokeMessage
        return b4a.equals(encodeMessage(decodeMessage(encodeMessage(msg))), encodeMessage(msg))
      }) as unknown as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'invoke.decodeReceipt',
      codes: codes('RECEIPT_INVALID'),
      input: fc.oneof(bytesInput([receipt], 2100), anyValue),
      run: input => decodeReceipt(input as Uint8Array),
      roundTrip: fc.property(fc.record({
        fuel: fc.nat(),
        time: fc.nat(),
        deadline: fc.nat(),
        bytes: fc.nat({ max: MAX_RECEIPT_BYTES_MOVED }),
        tenant: fc.constantFrom('0x' + '12'.repeat(20), pub),
        price: fc.record({ utilisationPpm: fc.nat({ max: 1_000_000 }), fuelPrice: fc.nat({ max: 1_000_000 }), bytePrice: fc.nat({ max: 1_000_000 }) })
      }), (over: unknown) => {
        const o = over as ReceiptBody
        const r = signReceipt({ ...receiptBody, ...o, total: charge(o.price, o.fuel, o.bytes) }, kp.secretKey)
        return JSON.stringify(decodeReceipt(encodeReceipt(r))) === JSON.stringify(r)
      }) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'attest.decodeAttestation',
      codes: codes('ATTESTATION_INVALID'),
      input: fc.oneof(bytesInput(attestations.map(encodeAttestation), 600), anyValue),
      run: input => decodeAttestation(input as Uint8Array),
      roundTrip: fc.property(fc.constantFrom(...attestations), (a: unknown) => b4a.equals(encodeAttestation(decodeAttestation(encodeAttestation(a as typeof attestations[0]))), encodeAttestation(a as typeof attestations[0]))) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'reputation.decodeMiss',
      codes: codes('MISS_INVALID'),
      input: fc.oneof(bytesInput([encodeMiss(miss)], 300), anyValue),
      run: input => decodeMiss(input as Uint8Array),
      roundTrip: fc.property(fc.constant(miss), (x: unknown) => b4a.equals(encodeMiss(decodeMiss(encodeMiss(x as typeof miss))), encodeMiss(x as typeof miss))) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'ledger.decodeStorageReceipt',
      codes: codes('STORAGE_RECEIPT_INVALID'),
      input: fc.oneof(bytesInput([encodeStorageReceipt(storageReceipt)], 300), anyValue),
      run: input => decodeStorageReceipt(input as Uint8Array),
      roundTrip: fc.property(fc.constant(storageReceipt), (x: unknown) => b4a.equals(encodeStorageReceipt(decodeStorageReceipt(encodeStorageReceipt(x as typeof storageReceipt))), encodeStorageReceipt(x as typeof storageReceipt))) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'ledger.decodeCosignedPin',
      codes: codes('STORAGE_RECEIPT_INVALID'),
      input: fc.oneof(bytesInput([encodeCosignedPin(storagePin)], 400), anyValue),
      run: input => decodeCosignedPin(input as Uint8Array),
      roundTrip: fc.property(fc.constant(storagePin), (x: unknown) => b4a.equals(encodeCosignedPin(decodeCosignedPin(encodeCosignedPin(x as typeof storagePin))), encodeCosignedPin(x as typeof storagePin))) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'ledger.parseStorageOrder',
      codes: codes('STORAGE_RECEIPT_INVALID'),
      input: fc.oneof(fc.constant(storageOrder as unknown), anyValue),
      run: input => parseStorageOrder(input),
      roundTrip: fc.property(fc.constant(storageOrder), (x: unknown) => JSON.stringify(parseStorageOrder(JSON.parse(JSON.stringify(x)))) === JSON.stringify(x)) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'ledger.decodeVerdict',
      codes: codes('VERDICT_INVALID'),
      input: fc.oneof(bytesInput([encodeVerdict(verdict)], 400), anyValue),
      run: input => decodeVerdict(input as Uint8Array),
      roundTrip: fc.property(fc.constant(verdict), (x: unknown) => b4a.equals(encodeVerdict(decodeVerdict(encodeVerdict(x as typeof verdict))), encodeVerdict(x as typeof verdict))) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'pinning.decodeProofMessage',
      codes: codes('PIN_PROTOCOL'),
      input: fc.oneof(bytesInput(proofSeeds, 2000), anyValue),
      run: input => decodeProofMessage(input as Uint8Array)
    },
    {
      name: 'attest.decodeAudit',
      codes: codes('AUDIT_INVALID'),
      input: fc.oneof(bytesInput([encodeAudit(audit)], 2100), anyValue),
      run: input => decodeAudit(input as Uint8Array),
      roundTrip: fc.property(fc.constant(audit), (x: unknown) => b4a.equals(encodeAudit(decodeAudit(encodeAudit(x as typeof audit))), encodeAudit(x as typeof audit))) as fc.IPropertyWithHooks<[unknown]>
    },
    {
      name: 'sandbox.parseWorkerRequest',
      codes: codes('INVALID_ARGUMENT', 'INVALID_MODULE', 'INPUT_TOO_LARGE'),
      input: objectInput([{ hash: hex(32, 1), abi: 'raw', input: new Uint8Array(4), seed: 0, limits: {}, args: [], env: [] }, { hash: hex(32, 2), bytes: new Uint8Array(8), abi: 'wasi', input: new Uint8Array(0), seed: 3, args: ['a'], env: ['A=b'], limits: { fuel: 10 } }]),
      run: input => parseWorkerRequest(input)
    },
    {
      name: 'sandbox.parseWorkerReply',
      codes: codes('INTERNAL'),
      input: objectInput([{ kind: 'done', output: new Uint8Array(2), fuelUsed: 3, exitCode: 0, durationMs: 1 }, { kind: 'need-module' }]),
      run: input => parseWorkerReply(input)
    },
    {
      name: 'executor.parseReplyMessage',
      codes: codes('INTERNAL'),
      input: objectInput([{ id: 1, ok: true, reply: {} }, { id: 2, ok: false, error: { name: 'ShadwError', code: 'TRAP', message: 'TRAP: x' } }]),
      run: input => parseReplyMessage(input)
    },
    {
      name: 'errors.deserializeError',
      codes: codes(),
      input: objectInput([{ name: 'ShadwError', code: 'TRAP', message: 'TRAP: x', details: { a: 1 } }]),
      run: input => {
        const e = deserializeError(input)
        if (!(e instanceof ShadwError) || !isErrorCode(e.code)) throw new Error('deserializeError returned no ShadwError')
        return e
      }
    },
    {
      name: 'webrtc.parseWorkerToPage',
      codes: codes('BRIDGE_PROTOCOL', 'SIGNAL_INVALID', 'INVALID_ARGUMENT'),
      input: objectInput([{ type: 'start', link: 1, initiator: true, ice: { iceServers: [], iceTransportPolicy: 'all' } }, { type: 'signal', link: 1, signal: signals[0]!.signal }, { type: 'stop', link: 1, reason: 'x' }, { type: 'traffic', bytesIn: 1, bytesOut: 2 }]),
      run: input => parseWorkerToPage(input)
    },
    {
      name: 'webrtc.parsePageToWorker',
      codes: codes('BRIDGE_PROTOCOL', 'SIGNAL_INVALID', 'INVALID_ARGUMENT'),
      input: objectInput([{ type: 'signal', link: 1, signal: signals[1]!.signal }, { type: 'closed', link: 1, error: null }, { type: 'traffic' }, { type: 'channel', link: 1, channel: { readyState: 'open' } }]),
      run: input => parsePageToWorker(input)
    },
    {
      name: 'webrtc.parseWebrtcConfig',
      codes: codes('INVALID_ARGUMENT'),
      input: objectInput([{ ice: { iceServers: [{ urls: 'stun:127.0.0.1:3478' }], iceTransportPolicy: 'all' }, connectTimeoutMs: 1000 }]),
      run: input => parseWebrtcConfig(input)
    }
  ]
  return targets
}

const signalArb: fc.Arbitrary<unknown> = fc.record({
  attempt: fc.nat({ max: 1000 }),
  signal: fc.oneof(
    fc.record({ type: fc.constantFrom('offer' as const, 'answer' as const), sdp: fc.string({ minLength: 1, maxLength: 500 }) }),
    fc.record({ type: fc.constant('candidate' as const), candidate: fc.record({ candidate: fc.string({ maxLength: 200 }), sdpMLineIndex: fc.option(fc.integer({ min: 0, max: 64 })), sdpMid: fc.option(fc.string({ maxLength: 64 })) }) }),
    fc.record({ type: fc.constant('bye' as const), reason: fc.string({ maxLength: 256 }) })
  )
})

/** Manifests as they arrive (through JSON: plain objects; fast-check's records have null prototypes). */
function manifestArb (publisher: string): fc.Arbitrary<unknown> {
  const u = (max = Number.MAX_SAFE_INTEGER): fc.Arbitrary<number> => fc.nat({ max })
  return fc.record({
    name: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,63}$/),
    version: fc.tuple(u(999), u(999), u(999), fc.option(fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/))).map(([a, b, c, p]) => `${a}.${b}.${c}${p === null ? '' : '-' + p}`),
    moduleHash: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(b => b4a.toString(b, 'hex')),
    size: fc.integer({ min: 1, max: 2 ** 31 }),
    abi: fc.constantFrom('raw', 'wasi'),
    limits: fc.record({ fuel: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), memoryPages: u(65_536), deadlineMs: fc.integer({ min: 1, max: 2 ** 31 }), maxInputBytes: u(2 ** 31), maxOutputBytes: u(2 ** 31) }),
    access: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
    price: fc.record({ base: u(1e9), curve: fc.tuple(u(1e8), u(1e8), u(1e8), u(1e8)) }),
    publisher: fc.constant(publisher),
    createdAt: u(),
    blob: fc.record({ key: fc.uint8Array({ minLength: 32, maxLength: 32 }).map(b => b4a.toString(b, 'hex')), start: u(), length: fc.constant(1) }),
    // sorted and distinct: the one order a list decodes back to
    authDomains: fc.uniqueArray(authDomainArb(), { maxLength: 16 }).map(d => [...d].sort())
  }).map(({ authDomains, ...m }) => JSON.parse(JSON.stringify(
    // a list only on gated functions, and never empty (absent means the executor's own domain)
    authDomains.length === 0 || m.access.length === 0 ? m : { ...m, authDomains }
  )) as unknown)
}

/** Domains a manifest may list: DNS names, IPv4, bracketed IPv6, each with or without a port. */
function authDomainArb (): fc.Arbitrary<string> {
  const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/)
  const host = fc.oneof(
    fc.array(label, { minLength: 1, maxLength: 4 }).map(l => l.join('.')),
    fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map(o => o.join('.')),
    fc.constantFrom('[::1]', '[fe80::1]', '[2001:db8::8a2e:370:7334]')
  )
  return fc.tuple(host, fc.option(fc.integer({ min: 1, max: 65_535 }))).map(([h, p]) => p === null ? h : `${h}:${p}`)
}

/** What one input did: `ok`, a refusal with an allowed code, or a failure to report. */
export type Verdict = { kind: 'ok' } | { kind: 'refused', code: ErrorCode } | { kind: 'known-bug', message: string } | { kind: 'crash', message: string }

/** Runs one input and classifies the outcome. */
export async function judge (t: FuzzTarget, input: unknown): Promise<Verdict> {
  try {
    await t.run(input)
    return { kind: 'ok' }
  } catch (err) {
    if (err instanceof ShadwError && t.codes.has(err.code)) return { kind: 'refused', code: err.code }
    const message = err instanceof ShadwError ? `unexpected code ${err.code}: ${err.message}` : `${(err as Error)?.name}: ${(err as Error)?.message}`
    if (t.knownBug !== undefined && !(err instanceof ShadwError) && t.knownBug.message.test(message)) return { kind: 'known-bug', message }
    return { kind: 'crash', message: message.slice(0, 300) }
  }
}
