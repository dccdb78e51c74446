/**
 * Publisher keys. A publisher's ed25519 key pair is the key pair of its registry Hypercore
 * (so "publisher key = registry log key" holds by construction); its blob log gets a key
 * pair derived from the same secret, so a publisher backs up one secret only.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { ShadwError } from '../errors.ts'

/** An ed25519 key pair (libsodium layout: 64-byte secret key = seed ‖ public key). */
export interface PublisherKeyPair {
  publicKey: Uint8Array
  secretKey: Uint8Array
}

/** Domain of the blob log's seed derivation; versioned so a new layout derives new keys. */
const BLOB_SEED_DOMAIN = 'shadw/registry/blobs/v1'

/** A fresh publisher key pair. */
export function createPublisherKeyPair (): PublisherKeyPair {
  return crypto.keyPair()
}

/** Checks that a secret key belongs to the public key (both as stored). */
export function checkKeyPair (kp: PublisherKeyPair): PublisherKeyPair {
  if (!(kp.publicKey instanceof Uint8Array) || kp.publicKey.byteLength !== 32 ||
    !(kp.secretKey instanceof Uint8Array) || kp.secretKey.byteLength !== 64 ||
    !b4a.equals(kp.secretKey.subarray(32), kp.publicKey)) {
    throw ShadwError.INVALID_ARGUMENT('publisher key pair is malformed')
  }
  const probe = b4a.from('shadw/key-check')
  if (!crypto.verify(probe, crypto.sign(probe, kp.secretKey), kp.publicKey)) throw ShadwError.INVALID_ARGUMENT('publisher secret key does not match its public key')
  return kp
}

/** The key pair of the publisher's blob log, derived from the publisher's secret seed. */
export function blobKeyPair (publisher: PublisherKeyPair): PublisherKeyPair {
  const seed = crypto.hash([b4a.from(BLOB_SEED_DOMAIN), publisher.secretKey.subarray(0, 32)])
  return crypto.keyPair(seed)
}
