import b4a from 'b4a'
import Hypercore from 'hypercore'
import RAM from 'random-access-memory'
import { describe, expect, it, onTestFinished } from 'vitest'
import { answerBlockChallenge, checkBlockAnswer, rootIndices, type ProvingCore } from '../../../../src/core/pinning/index.ts'

async function core (blocks: number): Promise<Hypercore> {
  const c = new Hypercore(RAM.reusable())
  onTestFinished(async () => { await c.close() })
  await c.ready()
  for (let i = 0; i < blocks; i++) await c.append(b4a.from(`block ${i} `.repeat(1 + (i % 5))))
  return c
}

describe('block proofs of replicated pins', () => {
  it('root indices are flat-tree full roots', () => {
    expect(rootIndices(1)).toEqual([0])
    expect(rootIndices(4)).toEqual([3])
    expect(rootIndices(5)).toEqual([3, 8])
    expect(rootIndices(11)).toEqual([7, 17, 20])
  })

  it('every block proves against the tree hash of the pinned length, also after the writer appended more', async () => {
    const c = await core(11)
    const pinned = { key: b4a.toString(c.key!, 'hex'), length: 11, treeHash: b4a.toString(await c.treeHash(11), 'hex') }
    for (let i = 0; i < 11; i++) checkBlockAnswer(pinned, i, await answerBlockChallenge(c as unknown as ProvingCore, 11, i))
    await c.append([b4a.from('later'), b4a.from('more')])
    for (const i of [0, 7, 10]) checkBlockAnswer(pinned, i, await answerBlockChallenge(c as unknown as ProvingCore, 11, i))
  })

  it('a wrong block, a proof for another index, a path or roots of another length fail with PROOF_FAILED', async () => {
    const c = await core(11)
    const pinned = { key: b4a.toString(c.key!, 'hex'), length: 11, treeHash: b4a.toString(await c.treeHash(11), 'hex') }
    const a = await answerBlockChallenge(c as unknown as ProvingCore, 11, 6)
    const fail = expect.objectContaining({ code: 'PROOF_FAILED' })
    expect(() => { checkBlockAnswer(pinned, 6, { ...a, bytes: a.bytes.replace(/^../, '00') }) }).toThrow(fail)
    expect(() => { checkBlockAnswer(pinned, 5, a) }).toThrow(fail)
    expect(() => { checkBlockAnswer(pinned, 6, { ...a, nodes: a.nodes.slice(1) }) }).toThrow(fail)
    await c.append(b4a.from('x'))
    expect(() => { checkBlockAnswer(pinned, 6, { ...a, roots: [] }) }).toThrow(fail)
    const longer = await answerBlockChallenge(c as unknown as ProvingCore, 12, 6)
    expect(() => { checkBlockAnswer(pinned, 6, longer) }).toThrow(fail)
    expect(() => { checkBlockAnswer(pinned, 6, null) }).toThrow(fail)
    // a block the holder dropped from its disk cannot be answered at all
    await c.clear(6, 7)
    await expect(answerBlockChallenge(c as unknown as ProvingCore, 11, 6)).rejects.toMatchObject({ code: 'SHARD_NOT_HELD' })
  })
})
