/**
 * The dealer's and the requester's side of condition-gated keys: dealing a key t-of-n,
 * fetching it back (spotting wrong and stale shares), and rotating its shares to a new set of
 * holders without rebuilding it.
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'
import { ephemeralKeyPair, functionKey, keyCheck, newShareXs, openShare, recoverKey, shareX, splitKey, verifyCommitment, verifyRelease, type FunctionId, type KeyCommitment, type ReleaseRecord } from '../access/index.ts'
import { keyIdOf, type KeyService } from './key-service.ts'

/** Where a key's shares are: what the dealer keeps to fetch or rotate it later (nothing in it is secret). */
export interface KeyLayout {
  keyId: string
  /** the dealer's node key, hex: commitments must be its */
  dealer: string
  threshold: number
  /** holder node key (hex) → the x of its share */
  holders: Record<string, number>
  /** the current epoch's commitment */
  commitment: KeyCommitment
}

/** What dealing and rotating need to know about the key besides its shares. */
export interface KeyTerms {
  fn: FunctionId
  access: unknown
  domains?: string[]
  /** node keys (hex) the key may be released to, and only for a call they run (a function's secret); absent: any requester whose auth passes */
  executors?: string[]
}

/** Splits `key` t-of-n and deposits one share with each holder, with the dealer's commitment to the key. */
export async function dealKey (service: KeyService, d: KeyTerms & { key: Uint8Array, holders: readonly string[], threshold: number }): Promise<KeyLayout> {
  const keyId = keyIdOf(service.publicKey, d.fn)
  const shares = await splitKey(d.key, d.threshold, d.holders.length)
  const commitment = service.commitment({ keyId, epoch: 0, threshold: d.threshold, check: keyCheck(keyId, d.key) })
  const holders: Record<string, number> = {}
  try {
    await Promise.all(d.holders.map(async (h, i) => {
      const share = shares[i] as Uint8Array
      holders[h] = shareX(share)
      await service.deposit(h, { keyId, fn: d.fn, access: d.access, ...(d.domains === undefined ? {} : { domains: d.domains }), ...(d.executors === undefined ? {} : { executors: d.executors }), share, commitment })
    }))
  } finally {
    for (const s of shares) s.fill(0)
  }
  return { keyId, dealer: service.publicKey, threshold: d.threshold, holders, commitment }
}

/** A key rebuilt from releases, the holders' signed records, and each refusal's code. */
export interface FetchedKey { key: Uint8Array, records: ReleaseRecord[], refusals: Record<string, string>, epoch: number }

/**
 * Asks every holder for its share, sealed to a fresh one-use key, and rebuilds the key the
 * dealer committed to. Shares of an epoch older than the newest committed one are refused
 * (`KEY_SHARE_STALE`), shares off the key's polynomial too (`KEY_SHARE_INVALID`), so old and
 * new shares never mix and a lying holder is named.
 * @throws ShadwError `KEY_SHARES_SHORT` (details: each holder's refusal code) when fewer than
 *   the threshold released good shares.
 */
export async function fetchKey (service: KeyService, r: { keyId: string, dealer: string, holders: readonly string[], threshold: number, auth: unknown, blocks?: Readonly<Record<string, bigint>>, call?: string }): Promise<FetchedKey> {
  const ephemeral = ephemeralKeyPair()
  const to = b4a.toString(ephemeral.publicKey, 'hex')
  const refusals: Record<string, string> = {}
  const opened: Array<{ holder: string, share: Uint8Array, record: ReleaseRecord, epoch: number }> = []
  let newest: KeyCommitment | null = null
  await Promise.all(r.holders.map(async (h) => {
    try {
      const rel = await service.requestShare(h, { keyId: r.keyId, auth: r.auth, to: ephemeral.publicKey, ...(r.blocks === undefined ? {} : { blocks: r.blocks }), ...(r.call === undefined ? {} : { call: r.call }) })
      if (rel.record.holder !== h || rel.record.to !== to || !verifyRelease(rel.record)) throw ShadwError.ACCESS_DENIED('the release record does not verify')
      // a commitment that is not the dealer's for this key makes the share unusable
      if (!verifyCommitment(rel.commitment, r.dealer) || rel.commitment.keyId !== r.keyId || rel.commitment.epoch !== rel.epoch) throw ShadwError.KEY_SHARE_INVALID(h)
      if (newest === null || rel.commitment.epoch > newest.epoch) newest = rel.commitment
      opened.push({ holder: h, share: openShare(rel.sealed, ephemeral), record: rel.record, epoch: rel.epoch })
    } catch (err) {
      refusals[h] = err instanceof ShadwError ? err.code : 'INTERNAL'
    }
  }))
  const commitment = newest as KeyCommitment | null
  try {
    if (commitment === null) throw ShadwError.KEY_SHARES_SHORT(0, r.threshold, { refusals })
    const current = opened.filter(o => {
      if (o.epoch === commitment.epoch) return true
      refusals[o.holder] = ShadwError.KEY_SHARE_STALE(o.holder, o.epoch, commitment.epoch).code
      return false
    })
    if (current.length < commitment.threshold) throw ShadwError.KEY_SHARES_SHORT(current.length, commitment.threshold, { refusals })
    let recovered
    try {
      recovered = await recoverKey(current.map(o => ({ source: o.holder, share: o.share })), commitment)
    } catch (err) {
      if (err instanceof ShadwError && err.code === 'KEY_SHARES_SHORT') throw ShadwError.KEY_SHARES_SHORT(0, commitment.threshold, { refusals, reason: 'no set of the released shares rebuilds the committed key' })
      throw err
    }
    for (const h of recovered.wrong) refusals[h] = ShadwError.KEY_SHARE_INVALID(h).code
    const good = current.filter(o => !recovered.wrong.includes(o.holder))
    return { key: recovered.key, records: good.map(o => o.record), refusals, epoch: commitment.epoch }
  } finally {
    for (const o of opened) o.share.fill(0)
  }
}

/**
 * Moves a key's shares to `holders` (any mix of old and new nodes) with a new threshold, over
 * the wire: a threshold's worth of the old holders (the first reachable ones) deal sub-shares
 * straight to the new holders, and the dealer commits the new epoch only once every new
 * holder has its share. Until then the old shares stay in force, so a failed rotation can be
 * run again.
 * @throws ShadwError `KEY_ROTATION_FAILED` (details: the step and the holder) when a step fails.
 */
export async function rotateKey (service: KeyService, layout: KeyLayout, terms: KeyTerms & { holders: readonly string[], threshold: number }): Promise<KeyLayout> {
  if (layout.dealer !== service.publicKey || keyIdOf(service.publicKey, terms.fn) !== layout.keyId) throw ShadwError.INVALID_ARGUMENT('only the dealer rotates its key')
  const reachable = new Set(service.peers())
  const participants = Object.keys(layout.holders).filter(h => reachable.has(h)).slice(0, layout.threshold)
  if (participants.length < layout.threshold) throw ShadwError.KEY_ROTATION_FAILED(`${participants.length} of the ${layout.threshold} old holders needed are reachable`, { step: 'participants' })
  const unique = [...new Set(terms.holders)]
  if (unique.length !== terms.holders.length) throw ShadwError.INVALID_ARGUMENT('new holders repeat')
  const xs = newShareXs(unique.length)
  const to = unique.map((holder, i) => ({ holder, x: xs[i] as number }))
  const commitment = service.commitment({ keyId: layout.keyId, epoch: layout.commitment.epoch + 1, threshold: terms.threshold, check: layout.commitment.check })
  const step = async (name: string, holders: readonly string[], m: (h: string) => Parameters<KeyService['rotationStep']>[1]): Promise<void> => {
    await Promise.all(holders.map(async h => {
      try { await service.rotationStep(h, m(h)) } catch (err) {
        throw ShadwError.KEY_ROTATION_FAILED(`${name} failed at ${h.slice(0, 8)}: ${err instanceof ShadwError ? err.code : String(err)}`, { step: name, holder: h, cause: err instanceof ShadwError ? err.code : 'INTERNAL' })
      }
    }))
  }
  const meta = { fn: functionKey(terms.fn), access: terms.access, ...(terms.domains === undefined ? {} : { domains: terms.domains }), ...(terms.executors === undefined ? {} : { executors: terms.executors }) }
  await step('expect', unique, h => ({ type: 'expect', keyId: layout.keyId, ...meta, x: to.find(t => t.holder === h)?.x as number, from: participants, commitment }))
  const participantXs = participants.map(h => layout.holders[h] as number)
  await step('reshare', participants, () => ({ type: 'reshare', keyId: layout.keyId, participants: participantXs, to, commitment }))
  // every new holder has its share: commit to all of them first, then retire the old ones
  // (an old holder offline now keeps a stale share that requesters refuse)
  await step('commit', unique, () => ({ type: 'commit', keyId: layout.keyId, epoch: commitment.epoch }))
  const leaving = Object.keys(layout.holders).filter(h => !unique.includes(h) && reachable.has(h))
  await Promise.allSettled(leaving.map(async h => { await service.rotationStep(h, { type: 'commit', keyId: layout.keyId, epoch: commitment.epoch }) }))
  return { keyId: layout.keyId, dealer: layout.dealer, threshold: terms.threshold, holders: Object.fromEntries(to.map(t => [t.holder, t.x])), commitment }
}
