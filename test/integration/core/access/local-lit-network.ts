/**
 * A stand-in Lit network on loopback, for tests: `n` HTTP nodes holding Shamir shares of a
 * locally generated BLS12-381 key, answering the endpoint `LitNodeClient.decrypt` calls
 * (`POST /web/encryption/sign/`) the way Lit nodes do: check the auth signature (with the
 * `siwe` package, independently of shadw's verifier), evaluate the conditions for the signer
 * (against an in-memory chain state), and only then return a BLS signature share over the
 * identity `lit-accesscontrolcondition://<conditions hash>/<data hash>`.
 *
 * The client side is the real SDK: `attachLit()` gives a real `LitNodeClient` these node URLs
 * and the public key; it encrypts, fetches shares, combines them and decrypts with Lit's wasm.
 * What is ours: key generation and share signing (with @noble/curves, using the
 * proof-of-possession ciphersuite Lit's wasm verifies with), and the condition evaluation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { bls12_381 as bls } from '@noble/curves/bls12-381'
import { SiweMessage } from 'siwe'
import * as accs from '@lit-protocol/access-control-conditions'

/** Lit signs identities with the proof-of-possession ciphersuite on G2 (blsful `Bls12381G2Impl`). */
const DST = 'BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_'
/** Request bodies above this are refused, as a real node would. */
const MAX_BODY_BYTES = 64 * 1024

/** What the stand-in chain knows: ERC-20 balances by token, then holder (lowercase addresses). */
export interface ChainState {
  erc20: Record<string, Record<string, bigint>>
}

/** Options of {@link startLocalLitNetwork}. */
export interface LocalLitNetworkOptions {
  nodes?: number
  threshold?: number
  chain?: ChainState
}

/** How nodes behave: answer, hang (never respond), or refuse connections (closed). */
export type NodeMode = 'up' | 'hang'

/** A running stand-in network. */
export interface LocalLitNetwork {
  nodeUrls: string[]
  subnetPubKey: string
  minNodeCount: number
  chain: ChainState
  /** decryption requests received, all nodes together */
  requests: number
  mode: NodeMode
  close (): Promise<void>
}

/** Starts the stand-in on 127.0.0.1; the caller closes it (e.g. in `afterAll`). */
export async function startLocalLitNetwork (options: LocalLitNetworkOptions = {}): Promise<LocalLitNetwork> {
  const n = options.nodes ?? 3
  const t = options.threshold ?? 2
  const Fr = bls.fields.Fr
  // a random polynomial of degree t-1; f(0) is the network secret, f(i) node i's share
  const coefficients = Array.from({ length: t }, () => Fr.create(bytesToBigInt(bls.utils.randomPrivateKey())))
  const f = (x: bigint): bigint => coefficients.reduceRight((acc, c) => Fr.add(Fr.mul(acc, x), c), 0n)
  const publicKey = bls.G1.ProjectivePoint.BASE.multiply(coefficients[0] as bigint)
  const servers: Server[] = []
  const network: LocalLitNetwork = {
    nodeUrls: [],
    subnetPubKey: toHex(publicKey.toRawBytes(true)),
    minNodeCount: t,
    chain: options.chain ?? { erc20: {} },
    requests: 0,
    mode: 'up',
    close: async () => {
      await Promise.all(servers.map(s => new Promise<void>(resolve => {
        s.closeAllConnections()
        s.close(() => resolve())
      })))
    }
  }
  for (let i = 1; i <= n; i++) {
    const share = f(BigInt(i))
    const server = createServer((req, res) => {
      handle(network, i, share, req, res).catch(err => reply(res, 500, { errorKind: 'Unexpected', errorCode: 'NodeUnknownError', status: 500, message: String(err) }))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    servers.push(server)
    network.nodeUrls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
  }
  return network
}

async function handle (network: LocalLitNetwork, index: number, share: bigint, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Lit nodes serve browsers directly, so they answer CORS preflights (the SDK sends JSON and X-Lit-* headers)
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST', 'access-control-allow-headers': '*', 'access-control-max-age': '600' })
    res.end()
    return
  }
  if (req.method !== 'POST' || req.url !== '/web/encryption/sign/') return reply(res, 404, { errorCode: 'NodeNotFound', status: 404, message: 'not found' })
  network.requests++
  const body = await readJson(req)
  if (network.mode === 'hang') return
  if (body === null) return reply(res, 400, { errorKind: 'Validation', errorCode: 'NodeInvalidRequest', status: 400, message: 'bad JSON' })

  const authSig = body['authSig'] as { sig?: unknown, signedMessage?: unknown, address?: unknown } | undefined
  if (typeof authSig?.sig !== 'string' || typeof authSig.signedMessage !== 'string' || typeof authSig.address !== 'string') {
    return reply(res, 401, { errorKind: 'Validation', errorCode: 'NodeInvalidAuthSig', status: 401, message: 'missing auth sig' })
  }
  let address: string
  try {
    const message = new SiweMessage(authSig.signedMessage)
    const checked = await message.verify({ signature: authSig.sig }, { suppressExceptions: true })
    if (!checked.success) {
      const expired = /expired/i.test(String(checked.error?.type ?? ''))
      return reply(res, 401, { errorKind: 'Validation', errorCode: expired ? 'NodeAuthSigExpired' : 'NodeInvalidAuthSig', status: 401, message: String(checked.error?.type) })
    }
    if (message.address.toLowerCase() !== authSig.address.toLowerCase()) throw new Error('address mismatch')
    address = message.address.toLowerCase()
  } catch (err) {
    return reply(res, 401, { errorKind: 'Validation', errorCode: 'NodeInvalidAuthSig', status: 401, message: String(err) })
  }

  const kinds = ['accessControlConditions', 'evmContractConditions', 'solRpcConditions', 'unifiedAccessControlConditions'] as const
  const kind = kinds.find(k => Array.isArray(body[k]))
  if (kind === undefined || typeof body['dataToEncryptHash'] !== 'string') {
    return reply(res, 400, { errorKind: 'Validation', errorCode: 'NodeInvalidRequest', status: 400, message: 'no conditions' })
  }
  const conditions = body[kind] as unknown[]
  let allowed: boolean
  try {
    allowed = evaluate(conditions, address, network.chain, kind === 'unifiedAccessControlConditions')
  } catch (err) {
    return reply(res, 400, { errorKind: 'Validation', errorCode: 'NodeInvalidAccessControlConditions', status: 400, message: String(err) })
  }
  if (!allowed) {
    return reply(res, 401, { errorKind: 'Validation', errorCode: 'NodeAccessControlConditionsReturnedNotAuthorized', status: 401, message: 'The access control conditions check failed' })
  }

  const digest = await hashConditions(kind, conditions)
  const identity = new TextEncoder().encode(`lit-accesscontrolcondition://${toHex(new Uint8Array(digest))}/${body['dataToEncryptHash']}`)
  const point = bls.G2.hashToCurve(identity, { DST }) as unknown as InstanceType<typeof bls.G2.ProjectivePoint>
  // blsful's signature share encoding: the share's identifier byte, then the compressed G2 point
  const shareBytes = new Uint8Array([index, ...point.multiply(share).toRawBytes(true)])
  reply(res, 200, {
    success: true,
    signatureShare: { ProofOfPossession: toHex(shareBytes) },
    shareIndex: index - 1,
    curveType: 'BLS',
    siweMessage: authSig.signedMessage,
    dataSigned: toHex(identity)
  })
}

/** Lit's boolean lists, evaluated left to right; conditions this stand-in cannot judge throw. */
function evaluate (list: unknown[], address: string, chain: ChainState, unified: boolean): boolean {
  let acc = leaf(list[0], address, chain, unified)
  for (let i = 1; i < list.length; i += 2) {
    const op = String((list[i] as { operator: string }).operator).toLowerCase()
    const next = leaf(list[i + 1], address, chain, unified)
    acc = op === 'or' ? acc || next : acc && next
  }
  return acc
}

function leaf (item: unknown, address: string, chain: ChainState, unified: boolean): boolean {
  if (Array.isArray(item)) return evaluate(item, address, chain, unified)
  const c = item as Record<string, unknown>
  if (unified && c['conditionType'] !== 'evmBasic') throw new Error('stand-in knows only evmBasic conditions')
  const test = c['returnValueTest'] as { comparator: string, value: string }
  const params = c['parameters'] as unknown[]
  if (c['standardContractType'] === '' && params[0] === ':userAddress') {
    return test.comparator === '=' && test.value.toLowerCase() === address
  }
  if (c['standardContractType'] === 'timestamp') return compare(BigInt(Math.floor(Date.now() / 1000)), test.comparator, BigInt(test.value))
  if (c['standardContractType'] === 'ERC20' && c['method'] === 'balanceOf' && params[0] === ':userAddress') {
    const balance = chain.erc20[String(c['contractAddress']).toLowerCase()]?.[address] ?? 0n
    return compare(balance, test.comparator, BigInt(test.value))
  }
  throw new Error('stand-in cannot evaluate this condition')
}

function compare (a: bigint, comparator: string, b: bigint): boolean {
  switch (comparator) {
    case '=': return a === b
    case '>': return a > b
    case '>=': return a >= b
    case '<': return a < b
    case '<=': return a <= b
    default: throw new Error('unknown comparator ' + comparator)
  }
}

async function hashConditions (kind: string, list: unknown[]): Promise<ArrayBuffer> {
  switch (kind) {
    case 'accessControlConditions': return await accs.hashAccessControlConditions(list as never)
    case 'evmContractConditions': return await accs.hashEVMContractConditions(list as never)
    case 'solRpcConditions': return await accs.hashSolRpcConditions(list as never)
    default: return await accs.hashUnifiedAccessControlConditions(list as never)
  }
}

async function readJson (req: IncomingMessage): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength
    if (size > MAX_BODY_BYTES) return null
    chunks.push(chunk as Buffer)
  }
  try {
    const value = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
    return typeof value === 'object' && value !== null ? value as Record<string, unknown> : null
  } catch {
    return null
  }
}

function reply (res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
  res.end(JSON.stringify(body))
}

function bytesToBigInt (bytes: Uint8Array): bigint {
  return BigInt('0x' + toHex(bytes))
}

function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}
