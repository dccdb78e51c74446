/**
 * Signed shard answers: what a holder's signature adds to serving one shard. Per 64 KiB shard
 * (the default) of a 4+2 pin: the holder's one signature (`signAnswer`), the reader's hash
 * check of the shard (`shardHash`, done before signed answers too: the same-run baseline), and
 * the signature check a reader runs only on a wrong shard. The ratio is the CPU of taking one
 * good shard (check + the holder's signing) with and without the signature; the bytes are
 * those the nonce and the signature add to a `get` and its `data`. Medians of
 * {@link ROUNDS}. Writes bench/results/shard-answer.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { encodeErasure, judgeAnswer, shardHash, shardNonce, signAnswer, signErasurePin } from '../src/core/pinning/index.ts'
import { signShardAnswer } from '../src/core/ledger/index.ts'
import { reedSolomon } from '../src/super-node/reed-solomon-node.ts'

const RESULTS = new URL('./results/shard-answer.json', import.meta.url)
const SHARD_BYTES = 64 * 1024
const ROUNDS = 2_000

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

function us (fn: () => void): number {
  const t = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t) / 1_000
}

export async function runShardAnswerBench (): Promise<void> {
  const holder = crypto.keyPair()
  const reader = crypto.keyPair()
  const rs = reedSolomon()
  const enc = encodeErasure(rs, crypto.randomBytes(4 * SHARD_BYTES * 4), { k: 4, m: 2 }, SHARD_BYTES)
  const pin = signErasurePin({ drive: 'ab'.repeat(32), version: 1, layout: enc.layout, stripes: enc.commitments, time: Date.now() }, holder)
  const shard = enc.stripes[1]![2]!
  const wrong = shard.map(x => x ^ 1)
  const nonce = shardNonce()
  const H = b4a.toString(holder.publicKey, 'hex')
  const liar = signShardAnswer({ drive: pin.drive, root: pin.root, stripe: 1, stripes: pin.stripes.length, shard: 2, width: 6, hash: shardHash(wrong, pin.layout.chunkBytes), nonce, holder: H }, holder).signature
  const sign: number[] = []
  const check: number[] = []
  const evidence: number[] = []
  for (let i = 0; i < ROUNDS; i++) {
    sign.push(us(() => { signAnswer(pin, 2, 1, nonce, holder) }))
    check.push(us(() => { judgeAnswer(pin, 'cd'.repeat(32), 2, 1, nonce, shard, '', reader) }))
    if (i % 20 === 0) evidence.push(us(() => { if (judgeAnswer(pin, H, 2, 1, nonce, wrong, liar, reader).ok) throw new Error('a wrong shard passed') }))
  }
  const signature = signAnswer(pin, 2, 1, nonce, holder)
  // the JSON heads of a get and its data answer, with and without the v2 fields
  const head = (o: object): number => JSON.stringify(o).length
  const added = head({ type: 'get', id: 1, root: pin.root, shard: 2, stripe: 1, nonce }) - head({ type: 'get', id: 1, root: pin.root, shard: 2, stripe: 1 }) + head({ type: 'data', id: 1, signature }) - head({ type: 'data', id: 1 })
  const out = {
    shardBytes: SHARD_BYTES,
    holderSignUs: median(sign),
    readerCheckUs: median(check),
    wrongShardEvidenceUs: median(evidence),
    goodShardCpuRatio: (median(check) + median(sign)) / median(check),
    wireBytesAdded: added,
    wireRatio: (SHARD_BYTES + added) / SHARD_BYTES
  }
  console.log(JSON.stringify(out))
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(RESULTS, JSON.stringify(out, null, 2) + '\n')
}
