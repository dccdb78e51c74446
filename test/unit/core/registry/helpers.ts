import crypto from 'hypercore-crypto'
import { keyToHex } from '../../../../src/core/keys.ts'
import type { FunctionManifest } from '../../../../src/core/registry/index.ts'
import { DEFAULT_LIMITS, sha256Hex } from '../../../../src/core/sandbox/index.ts'

/** A publisher key pair fixed by a seed, so failures reproduce. */
export function publisher (seed = 1): { publicKey: Uint8Array, secretKey: Uint8Array, hex: string } {
  const kp = crypto.keyPair(new Uint8Array(32).fill(seed))
  return { ...kp, hex: keyToHex(kp.publicKey) }
}

/** A manifest for `module` by `publisherHex`, with every field set. */
export async function manifestFor (module: Uint8Array, publisherHex: string, over: Partial<FunctionManifest> = {}): Promise<FunctionManifest> {
  return {
    name: 'echo',
    version: '1.2.3',
    moduleHash: await sha256Hex(module),
    size: module.byteLength,
    abi: 'raw',
    limits: { ...DEFAULT_LIMITS },
    access: [],
    price: { base: 3, curve: [1_000_000, 1_200_000, 2_000_000, 5_000_000] },
    publisher: publisherHex,
    createdAt: 1_700_000_000_000,
    blob: { key: 'ab'.repeat(32), start: 0, length: 1 },
    ...over
  }
}
