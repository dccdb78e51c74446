/**
 * Condition-gated keys over the wire. A dealer splits a key t-of-n and deposits one share with
 * each of n holders (super nodes chosen by {@link chooseHolders}); a holder keeps its share
 * sealed at rest under a key derived from its node secret, and releases it only after
 * checking the requester's auth and the key's conditions itself (its own {@link AccessGate},
 * so its own chain reads), sealed to the requester's one-use key, with a signed release record
 * appended to its ledger before the answer leaves. t releases rebuild the key in the
 * requester's process only: no holder ever sees another's share.
 *
 * Each share carries the dealer's signed commitment to the key (access/key-commitment), so a
 * requester can tell a wrong share and name its holder. Rotation: the dealer announces the new
 * holders (`expect`), asks a threshold of old holders to deal sub-shares of their shares
 * (`reshare`), which they send straight to the new holders (`subshare`); each new holder adds
 * its sub-shares into its new share and keeps it aside until the dealer's `commit`, when the
 * new shares take over and the old ones are dropped. The dealer only coordinates: the key is
 * never rebuilt, and no node sees more than its own share and the sub-shares sent to it.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import crypto from 'hypercore-crypto'
import Protomux, { type ProtomuxChannel, type ProtomuxMessage } from 'protomux'
import sodium from 'sodium-universal'
import type { SwarmConnection } from 'hyperswarm'
import { ConnectionChannels, type ConnectionHost } from '../connection-channels.ts'
import { ShadwError } from '../errors.ts'
import { KeyHolder, functionKey, openShare, reshareCombine, reshareDeal, shareX, signCommitment, verifyCommitment, type AccessGate, type FunctionId, type KeyCommitment, type KeyRelease } from '../access/index.ts'
import { encodeRelease } from '../ledger/index.ts'
import { decodeKeyMessage, encodeKeyMessage, KEYS_PROTOCOL, type AskMessage, type CommitMessage, type ExpectMessage, type KeyMessage, type RequestMessage, type ReshareMessage, type SubshareMessage } from './key-messages.ts'

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
interface Peer { key: string, channel: ProtomuxChannel, message: ProtomuxMessage, pending: Map<number, Pending>, open: boolean, holder: boolean }

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
  /** rotations this node is gathering sub-shares for, by key id */
  readonly #expected = new Map<string, Expected>()
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
    return [...this.#peers.values()].filter(p => p.open && !p.channel.closed).map(p => p.key)
  }

  /** Node keys of the peers that said, opening the channel, that they hold shares for others. */
  holders (): string[] {
    return [...this.#peers.values()].filter(p => p.open && p.holder && !p.channel.closed).map(p => p.key)
  }

  /** This node's key, hex: the dealer of the keys it deals. */
  get publicKey (): string { return b4a.toString(this.#opts.keyPair.publicKey, 'hex') }

  /** Signs a commitment as this node (the dealer). */
  commitment (c: Omit<KeyCommitment, 'signature'>): KeyCommitment { return signCommitment(c, this.#opts.keyPair.secretKey) }

  /** Gives `holder` its share of `keyId` (this node must be the dealer keyIdOf names), with the epoch-0 commitment. */
  async deposit (holder: string, d: { keyId: string, fn: FunctionId, access: unknown, domains?: string[], executors?: string[], share: Uint8Array, commitment: KeyCommitment }): Promise<void> {
    const sealed = sealTo(holder, d.share)
    await this.#ask(holder, { type: 'deposit', id: 0, keyId: d.keyId, fn: functionKey(d.fn), access: d.access, ...(d.domains === undefined ? {} : { domains: d.domains }), ...(d.executors === undefined ? {} : { executors: d.executors }), sealed: b4a.toString(sealed, 'hex'), commitment: d.commitment })
  }

  /** Asks `holder` for its share of `keyId`, sealed to `to`; `call`: as the executor of that call (its request nonce, hex). */
  async requestShare (holder: string, r: { keyId: string, auth: unknown, to: Uint8Array, blocks?: Readonly<Record<string, bigint>>, call?: string }): Promise<KeyRelease & { epoch: number, commitment: KeyCommitment | null }> {
    const blocks = r.blocks === undefined ? undefined : Object.fromEntries(Object.entries(r.blocks).map(([k, v]) => [k, v.toString()]))
    const request: RequestMessage = { type: 'request', id: 1, keyId: r.keyId, auth: JSON.stringify(r.auth), to: b4a.toString(r.to, 'hex'), ...(blocks === undefined ? {} : { blocks }), ...(r.call === undefined ? {} : { call: r.call }) }
    const self = this.publicKey
    // an executor that holds a share of the key itself asks itself without a connection
    const answer = holder === self && this.#opts.holder !== undefined
      ? await this.#release(this.#opts.holder, decodeKeyMessage(encodeKeyMessage(request)) as RequestMessage, self)
      : await this.#ask(holder, { ...request, id: 0 })
    if (answer.type !== 'release') throw ShadwError.INVALID_ARGUMENT('key holder answered a request with another message')
    return { sealed: b4a.from(answer.sealed, 'hex'), record: answer.record, epoch: answer.epoch, commitment: answer.commitment }
  }

  /** One step of a rotation this node (the dealer) drives: `expect`, `reshare` or `commit`. */
  async rotationStep (holder: string, m: Omit<ExpectMessage, 'id'> | Omit<ReshareMessage, 'id'> | Omit<CommitMessage, 'id'>): Promise<void> {
    await this.#ask(holder, { ...m, id: 0 } as AskMessage)
  }

  async #ask (holder: string, m: AskMessage): Promise<KeyMessage> {
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
      // one byte: 1 when the peer holds shares for others
      handshake: c.uint,
      onopen: (role: unknown) => { if (peer !== null) { peer.open = true; peer.holder = role === 1 } },
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
        if (m.type !== 'stored' && m.type !== 'release' && m.type !== 'error') {
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
    peer = { key, channel, message, pending: new Map(), open: false, holder: false }
    this.#peers.set(key, peer)
    channel.open(this.#opts.holder === undefined ? 0 : 1)
    return channel
  }

  async #serve (peer: Peer, m: AskMessage): Promise<KeyMessage> {
    const role = this.#opts.holder
    if (role === undefined) throw ShadwError.KEY_NOT_HELD(m.keyId)
    switch (m.type) {
      case 'deposit': {
        const fn = parseFn(m.fn)
        // the dealer is the connection's proven key: nobody else can write (or overwrite) its key
        if (keyIdOf(peer.key, fn) !== m.keyId) throw ShadwError.INVALID_ARGUMENT('the key id is not this dealer\'s for this function')
        if (!verifyCommitment(m.commitment, peer.key) || m.commitment.keyId !== m.keyId || m.commitment.epoch !== 0) throw ShadwError.INVALID_ARGUMENT('the commitment is not the dealer\'s for this key at epoch 0')
        const share = this.#openSealed(b4a.from(m.sealed, 'hex'))
        await this.#write(m.keyId, { fn: m.fn, access: m.access, domains: m.domains ?? null, executors: m.executors ?? null, current: this.#slot(m.commitment, share), next: null })
        share.fill(0)
        return { type: 'stored', id: m.id }
      }
      case 'request': return await this.#release(role, m, peer.key)
      case 'expect': {
        if (keyIdOf(peer.key, parseFn(m.fn)) !== m.keyId) throw ShadwError.INVALID_ARGUMENT('the key id is not this dealer\'s for this function')
        if (!verifyCommitment(m.commitment, peer.key) || m.commitment.keyId !== m.keyId) throw ShadwError.INVALID_ARGUMENT('the commitment is not the dealer\'s for this key')
        this.#expected.set(m.keyId, { dealer: peer.key, meta: { fn: m.fn, access: m.access, domains: m.domains ?? null, executors: m.executors ?? null }, x: m.x, from: new Set(m.from), got: new Map(), commitment: m.commitment })
        return { type: 'stored', id: m.id }
      }
      case 'reshare': return await this.#reshare(peer, m)
      case 'subshare': {
        const e = this.#expected.get(m.keyId)
        if (e === undefined || e.commitment.epoch !== m.epoch) throw ShadwError.KEY_ROTATION_FAILED('no rotation of this key to this epoch is expected here')
        if (!e.from.has(peer.key) || e.got.has(peer.key)) throw ShadwError.KEY_ROTATION_FAILED('sub-share from a node that is not a participant, or twice')
        const sub = this.#openSealed(b4a.from(m.sealed, 'hex'))
        if (shareX(sub) !== e.x) throw ShadwError.KEY_ROTATION_FAILED('sub-share for another x')
        e.got.set(peer.key, sub)
        if (e.got.size === e.from.size) {
          // every participant dealt: this holder's new share, kept aside until the dealer commits
          this.#expected.delete(m.keyId)
          const share = reshareCombine([...e.got.values()])
          for (const s of e.got.values()) s.fill(0)
          const held = await this.#read(m.keyId)
          await this.#write(m.keyId, { ...(held ?? { current: null }), ...e.meta, next: this.#slot(e.commitment, share) })
          share.fill(0)
        }
        return { type: 'stored', id: m.id }
      }
      case 'commit': {
        const held = await this.#read(m.keyId)
        if (held === null) throw ShadwError.KEY_NOT_HELD(m.keyId)
        if (keyIdOf(peer.key, parseFn(held.fn)) !== m.keyId) throw ShadwError.INVALID_ARGUMENT('only the dealer commits a rotation')
        if (held.next !== null && held.next.commitment?.epoch === m.epoch) {
          await this.#write(m.keyId, { ...held, current: held.next, next: null })
        } else if (held.current !== null && (held.current.commitment?.epoch ?? 0) < m.epoch) {
          // not among the new holders: the old share goes, so it cannot be released or leaked later
          await this.#write(m.keyId, { ...held, current: null, next: null })
        }
        return { type: 'stored', id: m.id }
      }
    }
  }

  async #release (role: HolderRole, m: RequestMessage, requester: string): Promise<KeyMessage> {
    const held = await this.#read(m.keyId)
    if (held?.current == null) throw ShadwError.KEY_NOT_HELD(m.keyId)
    // a key its dealer gave to named executors goes to them only, and only for a call
    if (held.executors !== null && (m.call === undefined || !held.executors.includes(requester))) throw ShadwError.KEY_REQUESTER_REFUSED(requester)
    let auth: unknown
    try { auth = JSON.parse(m.auth) } catch { throw ShadwError.AUTH_MALFORMED('auth is not JSON') }
    const share = this.#unseal(held.current)
    const holder = new KeyHolder({ share, fn: parseFn(held.fn), access: held.access, gate: role.gate, keyPair: this.#opts.keyPair, keyId: m.keyId, ...(held.domains === null ? {} : { domains: held.domains }) })
    const blocks = m.blocks === undefined ? undefined : Object.fromEntries(Object.entries(m.blocks).map(([k, v]) => [k, BigInt(v)]))
    let release: KeyRelease
    try {
      release = await holder.release({ auth, to: b4a.from(m.to, 'hex'), ...(blocks === undefined ? {} : { blocks }), ...(m.call === undefined ? {} : { call: { call: m.call, requester } }) })
    } finally {
      share.fill(0)
    }
    // the record is in the ledger before the share leaves
    await role.ledger.append([encodeRelease(release.record)])
    this.released++
    const commitment = held.current.commitment
    return { type: 'release', id: m.id, sealed: b4a.toString(release.sealed, 'hex'), record: release.record, epoch: commitment?.epoch ?? 0, commitment }
  }

  /** An old holder's part of a rotation: sub-shares of its share, each sealed to its new holder and sent straight there. */
  async #reshare (peer: Peer, m: ReshareMessage): Promise<KeyMessage> {
    const held = await this.#read(m.keyId)
    if (held?.current == null) throw ShadwError.KEY_NOT_HELD(m.keyId)
    if (keyIdOf(peer.key, parseFn(held.fn)) !== m.keyId) throw ShadwError.INVALID_ARGUMENT('only the dealer starts a rotation')
    const current = held.current.commitment
    if (!verifyCommitment(m.commitment, peer.key) || m.commitment.keyId !== m.keyId) throw ShadwError.INVALID_ARGUMENT('the commitment is not the dealer\'s for this key')
    // the same key, one epoch on: a dealer cannot slip another key in through a rotation
    if (current !== null && (m.commitment.epoch !== current.epoch + 1 || m.commitment.check !== current.check)) throw ShadwError.KEY_ROTATION_FAILED('the new commitment is not the next epoch of this key')
    const share = this.#unseal(held.current)
    let subs: Uint8Array[]
    try { subs = reshareDeal(share, m.participants, m.to.map(t => t.x), m.commitment.threshold) } finally { share.fill(0) }
    const self = b4a.toString(this.#opts.keyPair.publicKey, 'hex')
    try {
      await Promise.all(m.to.map(async (t, i) => {
        const sealed = b4a.toString(sealTo(t.holder, subs[i] as Uint8Array), 'hex')
        const sub: SubshareMessage = { type: 'subshare', id: 0, keyId: m.keyId, epoch: m.commitment.epoch, sealed }
        // a holder that stays on deals to itself without a round trip
        if (t.holder === self) await this.#serve({ ...peer, key: self }, sub)
        else await this.#ask(t.holder, sub)
      }))
    } catch (err) {
      const e = err instanceof ShadwError ? err : ShadwError.INTERNAL(String(err))
      throw ShadwError.KEY_ROTATION_FAILED(`a new holder did not take its sub-share: ${e.code}`, { cause: e.code })
    } finally {
      for (const s of subs) s.fill(0)
    }
    return { type: 'stored', id: m.id }
  }

  #openSealed (sealed: Uint8Array): Uint8Array {
    const pk = b4a.alloc(sodium.crypto_box_PUBLICKEYBYTES)
    const sk = b4a.alloc(sodium.crypto_box_SECRETKEYBYTES)
    sodium.crypto_sign_ed25519_pk_to_curve25519(pk, this.#opts.keyPair.publicKey)
    sodium.crypto_sign_ed25519_sk_to_curve25519(sk, this.#opts.keyPair.secretKey)
    try { return openShare(sealed, { publicKey: pk, secretKey: sk }) } finally { sk.fill(0) }
  }

  /** A share sealed at rest under this node's key, with its commitment. */
  #slot (commitment: KeyCommitment | null, share: Uint8Array): Slot {
    const nonce = b4a.alloc(sodium.crypto_secretbox_NONCEBYTES)
    sodium.randombytes_buf(nonce)
    const box = b4a.alloc(share.byteLength + sodium.crypto_secretbox_MACBYTES)
    sodium.crypto_secretbox_easy(box, share, nonce, this.#atRest)
    return { commitment, nonce: b4a.toString(nonce, 'hex'), box: b4a.toString(box, 'hex') }
  }

  #unseal (slot: Slot): Uint8Array {
    const box = b4a.from(slot.box, 'hex')
    const share = b4a.alloc(box.byteLength - sodium.crypto_secretbox_MACBYTES)
    if (!sodium.crypto_secretbox_open_easy(share, box, b4a.from(slot.nonce, 'hex'), this.#atRest)) throw ShadwError.INTERNAL('a stored share does not open with this node\'s key')
    return share
  }

  async #read (keyId: string): Promise<Held | null> {
    const bytes = await this.#store.get(keyId)
    if (bytes === null) return null
    const v = JSON.parse(b4a.toString(bytes)) as Held & Partial<Slot>
    // a share stored before commitments and epochs: epoch 0, no commitment
    if (v.current === undefined && typeof v.box === 'string' && typeof v.nonce === 'string') return { fn: v.fn, access: v.access, domains: v.domains, executors: null, current: { commitment: null, nonce: v.nonce, box: v.box }, next: null }
    return { fn: v.fn, access: v.access, domains: v.domains, executors: v.executors ?? null, current: v.current ?? null, next: v.next ?? null }
  }

  async #write (keyId: string, held: Held): Promise<void> {
    await this.#store.put(keyId, b4a.from(JSON.stringify(held)))
  }

  #fail (p: Peer): void {
    for (const x of p.pending.values()) { clearTimeout(x.timer); x.reject(ShadwError.NODE_CLOSED('key channel closed')) }
    p.pending.clear()
  }
}

/** A share sealed at rest, and the dealer's commitment for its epoch. */
interface Slot { commitment: KeyCommitment | null, nonce: string, box: string }
/** What a holder keeps per key: the conditions, the share it releases, and a rotated share awaiting the dealer's commit. */
interface Held extends StoredMeta { current: Slot | null, next: Slot | null }
/** A rotation this node takes part in as a new holder, gathering sub-shares. */
interface Expected { dealer: string, meta: StoredMeta, x: number, from: Set<string>, got: Map<string, Uint8Array>, commitment: KeyCommitment }

/** `share` sealed to the X25519 form of `holder`'s ed25519 node key. */
export function sealTo (holder: string, share: Uint8Array): Uint8Array {
  const curve = b4a.alloc(sodium.crypto_box_PUBLICKEYBYTES)
  sodium.crypto_sign_ed25519_pk_to_curve25519(curve, b4a.from(holder, 'hex'))
  const sealed = b4a.alloc(share.byteLength + sodium.crypto_box_SEALBYTES)
  sodium.crypto_box_seal(sealed, share, curve)
  return sealed
}

/** A key's terms as its holder keeps them; `executors`: the only nodes it is released to, for calls (null: anyone whose auth passes). */
interface StoredMeta { fn: string, access: unknown, domains: string[] | null, executors: string[] | null }

function parseFn (fn: string): FunctionId {
  const slash = fn.indexOf('/')
  const at = fn.lastIndexOf('@')
  if (slash < 1 || at < slash + 2 || at === fn.length - 1) throw ShadwError.INVALID_ARGUMENT('fn is publisher/name@version')
  return { publisher: fn.slice(0, slash), name: fn.slice(slash + 1, at), version: fn.slice(at + 1) }
}
