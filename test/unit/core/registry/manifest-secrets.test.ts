import { describe, expect, it } from 'vitest'
import { decodeManifest, encodeManifest } from '../../../../src/core/registry/index.ts'
import { cWasm, wat } from '../../../fixtures/wasm/fixtures.ts'
import { manifestFor, publisher } from './helpers.ts'

const GATE = [{ conditionType: 'evmBasic', contractAddress: '', standardContractType: '', chain: 'ethereum', method: '', parameters: [':userAddress'], returnValueTest: { comparator: '=', value: '0x0000000000000000000000000000000000000001' } }]
const SECRET = { name: 'API_KEY', keyId: 'aa'.repeat(32), dealer: 'bb'.repeat(32), threshold: 2, holders: ['dd'.repeat(32), 'cc'.repeat(32), 'ee'.repeat(32)], executors: ['ff'.repeat(32)] }

describe('manifest secrets', () => {
  it('a gated wasi manifest with secrets is body version 5, sorted, and round-trips, mounts or not', async () => {
    const plain = { ...await manifestFor(cWasm('print-env'), publisher().hex), abi: 'wasi' as const, access: GATE }
    const m = { ...plain, secrets: [SECRET] }
    const body = encodeManifest(m)
    expect(body[0]).toBe(5)
    expect(decodeManifest(body).secrets).toEqual([{ ...SECRET, holders: [...SECRET.holders].sort() }])
    const mounted = { ...m, mounts: [{ drive: 'ab'.repeat(32), version: 1, path: '/d' }] }
    expect(decodeManifest(encodeManifest(mounted)).mounts).toEqual(mounted.mounts)
  })

  it('refuses secrets of a raw or public function, and malformed ones, with MANIFEST_INVALID', async () => {
    const wasi = { ...await manifestFor(cWasm('print-env'), publisher().hex), abi: 'wasi' as const, access: GATE }
    const raw = { ...await manifestFor(await wat('echo'), publisher().hex), access: GATE }
    for (const bad of [
      { ...raw, secrets: [SECRET] }, { ...wasi, access: [], secrets: [SECRET] },
      { ...wasi, secrets: [{ ...SECRET, name: 'api-key' }] }, { ...wasi, secrets: [{ ...SECRET, threshold: 4 }] },
      { ...wasi, secrets: [{ ...SECRET, executors: [] }] }, { ...wasi, secrets: [SECRET, SECRET] }, { ...wasi, secrets: [{ ...SECRET, holders: ['cc'.repeat(32), 'cc'.repeat(32)] }] }
    ]) {
      expect(() => encodeManifest(bad as unknown as typeof wasi)).toThrow(/MANIFEST_INVALID/)
    }
  })
})
