/**
 * Condition-gated keys over the wire. A dealer splits a key t-of-n and deposits one share with
 * each of n holders (super nodes chosen by {@link chooseHolders}); a holder keeps its share
 * sealed at rest under a key derived from its node secret, and releases it only after
 * checking the requester's auth and the key's conditions itself (its own {@link AccessGate},
 * so its own chain reads), sealed to the requester's one-use key, with a signed release record
 * appended to its ledger before the answer leaves. t releases rebuild the key in the
 * requester's process only: no holder ever sees another's share.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import crypto from 'hypercore-crypto'
import Protomux, { type ProtomuxChannel, type ProtomuxMessage } from 'protomux'
import sodium from 'sodium-universal'
import type { SwarmConnection } from 'hyperswarm'
import { ConnectionChannels, type ConnectionHost } from '../connection-channels.ts'
import { ShadwError } from '../errors.ts'
import { KeyHolder, ephemeralKeyPair, functionKey, openShare, rebuildKey, splitKey, verifyRelease, type AccessGate, type FunctionId, type KeyRelease, type ReleaseRecord } from '../access/index.ts'
import { encodeRelease } from '../ledger/index.ts'
import { decodeKeyMessage, encodeKeyMessage, KEYS_PROTOCOL, type DepositMessage, type KeyMessage, type RequestMessage } from './key-messages.ts'

/** Default wait for one holder's answer: a release may read a chain first. */
const DEFAULT_TIMEOUT_MS = 30_000
const AT_REST_DOMAIN = 'shadw/key-shares/at-rest/v1'

/** Where a holder keeps its sealed shares (in memory by default; a host may give a disk store). */
export interface ShareStore {
  get (keyId: string): Promise<Uint8Array | null>
  put (keyId: string, bytes: Uint8Array): Promise<void>
}

/** What a holder needs beyond the connections: its gate and its ledger. */
export interface HolderRole {
  /** decides each release with this node's own auth checks and chain reads */
  gate: AccessGate
  /** appends blocks to this node's ledger */
  ledger: { append (blocks: Uint8Array[]): Promise<number> }
  store?: ShareStore
}

/** Options of {@link KeyService}. */
export interface KeyServiceOptions {
  host: ConnectionHost
  /** this node's swarm key pair (ed25519): peers know it from the connection's handshake */
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** present when this node holds shares for others */
  holder?: HolderRole
  timeoutMs?: number
}

interface Pending { resolve: (m: KeyMessage) => void, reject: (e: Error) => void, timer: ReturnType<typeof setTimeout> }
interface Peer { key: string, channel: ProtomuxChannel, message: ProtomuxMessage, pending: Map<number, Pending> }

/** The key id of `fn`'s key as dealt by `dealer` (its node key, hex): only that dealer may deposit under it. */
export function keyIdOf (dealer: string, fn: FunctionId): string {
  return b4a.toString(crypto.hash(b4a.from(JSON.stringify(['shadw/key-id/v1', dealer, functionKey(fn)]))), 'hex')
}

/** Versioned name of the topic nodes that hold key shares announce on. */
export const KEY_HOLDERS_TOPIC_NAME = 'shadw/v1/nodes/key-holders'

export function keyHoldersTopic (): Uint8Array {
  return crypto.hash(b4a.from(KEY_HOLDERS_TOPIC_NAME))
}

/**
 * The `n` holders of `keyId` among `candidates` (node keys, hex): the lowest hash of
 * (keyId, candidate). Anyone with the same candidates picks the same holders, and a key's
 * holders do not cluster on the same nodes as another key's.
 */
export function chooseHolders (keyId: string, candidates: readonly string[], n: number): string[] {
  const unique = [...new Set(candidates)]
  if (!Number.isInteger(n) || n < 2 || n > unique.length) throw ShadwError.INVALID_ARGUMENT(`need 2-${unique.length} holders`)
  const rank = (k: string): string => b4a.toString(crypto.hash(b4a.from(keyId + k)), 'hex')
  return unique.map(k => [rank(k), k] as const).sort((a, b) => a[0] < b[0] ? -1 : 1).slice(0, n).map(([, k]) => k)
}

/** The key channel on every connection: the holder's side when `holder` is given, the client's always. */
export class KeyService {
  readonly #opts: KeyServiceOptions
  readonly #channels: ConnectionChannels
  readonly #peers = new Map<string, Peer>()
  readonly #store: ShareStore
  readonly #atRest: Uint8Array
  #nextId = 1
  /** releases this holder made */
  released = 0

  constructor (opts: KeyServiceOptions) {
    this.#opts = opts
    this.#channels = new ConnectionChannels(opts.host, KEYS_PROTOCOL, (conn, mux) => this.#open(conn, mux))
    const shares = new Map<string, Uint8Array>()
    this.#store = opts.holder?.store ?? { get: async id => shares.get(id) ?? null, put: async (id, bytes) => { shares.set(id, bytes) } }
    this.#atRest = b4a.alloc(sodium.crypto_secretbox_KEYBYTES)
    sodium.crypto_generichash(this.#atRest, b4a.concat([b4a.from(AT_REST_DOMAIN), opts.keyPair.secretKey]))
  }

  start (): void { this.#channels.start() }

  stop (): void {
    this.#channels.stop()
    for (const p of this.#peers.values()) this.#fail(p)
    this.#peers.clear()
  }

  /** Node keys of the peers whose key channel is open. */
  peers (): string[] {
    return [...this.#peers.values()].filter(p => !p.channel.closed).map(p => p.key)
  }

  /** Gives `holder` its share of `keyId` (this node must be the dealer keyIdOf names). */
  async deposit (holder: string, d: { keyId: string, fn: FunctionId, access: unknown, domains?: string[], share: Uint8Array }): Promise<void> {
    const curve = b4a.alloc(sodium.crypto_box_PUBLICKEYBYTES)
    sodium.crypto_sign_ed25519_pk_to_curve25519(curve, b4a.from(holder, 'hex'))
    const sealed = b4a.alloc(d.share.byteLength + sodium.crypto_box_SEALBYTES)
    sodium.crypto_box_seal(sealed, d.share, curve)
    await this.#ask(holder, { type: 'deposit', id: 0, keyId: d.keyId, fn: functionKey(d.fn), access: d.access, ...(d.domains === undefined ? {} : { domains: d.domains }), sealed: b4a.toString(sealed, 'hex') })
  }

  /** Asks `holder` for its share of `keyId`, sealed to `to`. */
  async requestShare (holder: string, r: { keyId: string, auth: unknown, to: Uint8Array, blocks?: Readonly<Record<string, bigint>> }): Promise<KeyRelease> {
    const blocks = r.blocks === undefined ? undefined : Object.fromEntries(Object.entries(r.blocks).map(([k, v]) => [k, v.toString()]))
    const answer = await this.#ask(holder, { type: 'request', id: 0, keyId: r.keyId, auth: JSON.stringify(r.auth), to: b4a.toString(r.to, 'hex'), ...(blocks === undefined ? {} : { blocks }) })
    if (answer.type !== 'release') throw ShadwError.INVALID_ARGUMENT('key holder answered a request with another message')
    return { sealed: b4a.from(answer.sealed, 'hex'), record: answer.record }
  }

  async #ask (holder: string, m: DepositMessage | RequestMessage): Promise<KeyMessage> {
    const peer = this.#peers.get(holder)
    if (peer === undefined || peer.channel.closed) throw ShadwError.NODE_CLOSED(`no key channel to ${holder.slice(0, 8)}`)
    const id = this.#nextId++
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { peer.pending.delete(id); reject(new ShadwError('TIMEOUT', `key holder ${holder.slice(0, 8)} did not answer`)) }, this.#opts.timeoutMs ?? DEFAULT_TIMEOUT_MS)
      peer.pending.set(id, {
        resolve: (a) => { a.type === 'error' ? reject(new ShadwError(a.code, a.message, { details: { holder } })) : resolve(a) },
        reject,
        timer
      })
      peer.message.send(encodeKeyMessage({ ...m, id }))
    })
  }

  #open (conn: SwarmConnection, mux: Protomux): ProtomuxChannel | null {
    const key = b4a.toString(conn.remotePublicKey, 'hex')
    let peer: Peer | null = null
    const channel = mux.createChannel({
      protocol: KEYS_PROTOCOL,
      unique: true,
      onclose: () => { if (peer !== null) { this.#fail(peer); if (this.#peers.get(key) === peer) this.#peers.delete(key) } }
    })
    if (channel === null) return null
    const message = channel.addMessage({
      encoding: c.buffer,
      onmessage: (bytes: Uint8Array) => {
        if (peer === null) return
        let m: KeyMessage
        try { m = decodeKeyMessage(bytes) } catch { channel.close(); return }
        const p = peer
        if (m.type === 'deposit' || m.type === 'request') {
          this.#serve(p, m).then(answer => { p.message.send(encodeKeyMessage(answer)) }, (err: unknown) => {
            const e = err instanceof ShadwError ? err : ShadwError.INTERNAL(String(err))
            p.message.send(encodeKeyMessage({ type: 'error', id: m.id, code: e.code, message: e.message.slice(0, 1024) }))
          })
          return
        }
        const pending = p.pending.get(m.id)
        if (pending === undefined) return
        p.pending.delete(m.id)
        clearTimeout(pending.timer)
        pending.resolve(m)
      }
    })
    peer = { key, channel, message, pending: new Map() }
    this.#peers.set(key, peer)
    channel.open()
    return channel
  }

  async #serve (peer: Peer, m: DepositMessage | RequestMessage): Promise<KeyMessage> {
    const role = this.#opts.holder
    if (role === undefined) throw ShadwError.KEY_NOT_HELD(m.keyId)
    if (m.type === 'deposit') {
      const fn = parseFn(m.fn)
      // the dealer is the connection's proven key: nobody else can write (or overwrite) its key
      if (keyIdOf(peer.key, fn) !== m.keyId) throw ShadwError.INVALID_ARGUMENT('the key id is not this dealer\'s for this function')
      const share = this.#openDeposit(b4a.from(m.sealed, 'hex'))
      await this.#store.put(m.keyId, this.#seal({ fn: m.fn, access: m.access, domains: m.domains ?? null }, share))
      return { type: 'stored', id: m.id }
    }
    const held = await this.#store.get(m.keyId)
    if (held === null) throw ShadwError.KEY_NOT_HELD(m.keyId)
    const { meta, share } = this.#unseal(held)
    let auth: unknown
    try { auth = JSON.parse(m.auth) } catch { throw ShadwError.AUTH_MALFORMED('auth is not JSON') }
    const holder = new KeyHolder({ share, fn: parseFn(meta.fn), access: meta.access, gate: role.gate, keyPair: this.#opts.keyPair, ...(meta.domains === null ? {} : { domains: meta.domains }) })
    const blocks = m.blocks === undefined ? undefined : Object.fromEntries(Object.entries(m.blocks).map(([k, v]) => [k, BigInt(v)]))
    const release = await holder.release({ auth, to: b4a.from(m.to, 'hex'), ...(blocks === undefined ? {} : { blocks }) })
    share.fill(0)
    // the record is in the ledger before the share leaves
    await role.ledger.append([encodeRelease(release.record)])
    this.released++
    return { type: 'release', id: m.id, sealed: b4a.toString(release.sealed, 'hex'), record: release.record }
  }

  #openDeposit (sealed: Uint8Array): Uint8Array {
    const pk = b4a.alloc(sodium.crypto_box_PUBLICKEYBYTES)
    const sk = b4a.alloc(sodium.crypto_box_SECRETKEYBYTES)
    sodium.crypto_sign_ed25519_pk_to_curve25519(pk, this.#opts.keyPair.publicKey)
    sodium.crypto_sign_ed25519_sk_to_curve25519(sk, this.#opts.keyPair.secretKey)
    return openShare(sealed, { publicKey: pk, secretKey: sk })
  }

  #seal (meta: StoredMeta, share: Uint8Array): Uint8Array {
    const nonce = b4a.alloc(sodium.crypto_secretbox_NONCEBYTES)
    sodium.randombytes_buf(nonce)
    const box = b4a.alloc(share.byteLength + sodium.crypto_secretbox_MACBYTES)
    sodium.crypto_secretbox_easy(box, share, nonce, this.#atRest)
    return b4a.from(JSON.stringify({ ...meta, nonce: b4a.toString(nonce, 'hex'), box: b4a.toString(box, 'hex') }))
  }

  #unseal (bytes: Uint8Array): { meta: StoredMeta, share: Uint8Array } {
    const v = JSON.parse(b4a.toString(bytes)) as StoredMeta & { nonce: string, box: string }
    const box = b4a.from(v.box, 'hex')
    const share = b4a.alloc(box.byteLength - sodium.crypto_secretbox_MACBYTES)
    if (!sodium.crypto_secretbox_open_easy(share, box, b4a.from(v.nonce, 'hex'), this.#atRest)) throw ShadwError.INTERNAL('a stored share does not open with this node\'s key')
    return { meta: { fn: v.fn, access: v.access, domains: v.domains }, share }
  }

  #fail (p: Peer): void {
    for (const x of p.pending.values()) { clearTimeout(x.timer); x.reject(ShadwError.NODE_CLOSED('key channel closed')) }
    p.pending.clear()
  }
}

interface StoredMeta { fn: string, access: unknown, domains: string[] | null }

function parseFn (fn: string): FunctionId {
  const slash = fn.indexOf('/')
  const at = fn.lastIndexOf('@')
  if (slash < 1 || at < slash + 2 || at === fn.length - 1) throw ShadwError.INVALID_ARGUMENT('fn is publisher/name@version')
  return { publisher: fn.slice(0, slash), name: fn.slice(slash + 1, at), version: fn.slice(at + 1) }
}

/** Splits `key` t-of-n and deposits one share with each holder; returns the key id requesters ask for. */
export async function dealKey (service: KeyService, dealer: string, d: { key: Uint8Array, fn: FunctionId, access: unknown, domains?: string[], holders: readonly string[], threshold: number }): Promise<string> {
  const keyId = keyIdOf(dealer, d.fn)
  const shares = await splitKey(d.key, d.threshold, d.holders.length)
  await Promise.all(d.holders.map(async (h, i) => { await service.deposit(h, { keyId, fn: d.fn, access: d.access, ...(d.domains === undefined ? {} : { domains: d.domains }), share: shares[i] as Uint8Array }) }))
  for (const s of shares) s.fill(0)
  return keyId
}

/** A key rebuilt from releases, the holders' signed records, and each refusal's code. */
export interface FetchedKey { key: Uint8Array, records: ReleaseRecord[], refusals: Record<string, string> }

/**
 * Asks every holder for its share, sealed to a fresh one-use key, and rebuilds the key from
 * the first `threshold` valid releases (a release whose record does not verify, names another
 * holder or another sealing key is not counted).
 * @throws ShadwError `KEY_SHARES_SHORT` (details: each holder's refusal code) when fewer than `threshold` released.
 */
export async function fetchKey (service: KeyService, r: { keyId: string, holders: readonly string[], threshold: number, auth: unknown, blocks?: Readonly<Record<string, bigint>> }): Promise<FetchedKey> {
  const ephemeral = ephemeralKeyPair()
  const to = b4a.toString(ephemeral.publicKey, 'hex')
  const refusals: Record<string, string> = {}
  const good: Array<{ share: Uint8Array, record: ReleaseRecord }> = []
  await Promise.all(r.holders.map(async (h) => {
    try {
      const rel = await service.requestShare(h, { keyId: r.keyId, auth: r.auth, to: ephemeral.publicKey, ...(r.blocks === undefined ? {} : { blocks: r.blocks }) })
      if (rel.record.holder !== h || rel.record.to !== to || !verifyRelease(rel.record)) throw ShadwError.ACCESS_DENIED('the release record does not verify')
      good.push({ share: openShare(rel.sealed, ephemeral), record: rel.record })
    } catch (err) {
      refusals[h] = err instanceof ShadwError ? err.code : 'INTERNAL'
    }
  }))
  if (good.length < r.threshold) throw ShadwError.KEY_SHARES_SHORT(good.length, r.threshold, { refusals })
  const key = await rebuildKey(good.slice(0, r.threshold).map(g => g.share))
  for (const g of good) g.share.fill(0)
  return { key, records: good.map(g => g.record), refusals }
}
