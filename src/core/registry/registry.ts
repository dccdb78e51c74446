/**
 * A publisher's function registry: a Hyperbee on a Hypercore whose key pair is the
 * publisher's, plus a blob log (a second Hypercore) holding module bytes.
 *
 * Key layout of the Hyperbee (UTF-8 keys, binary values):
 * - `fn/<name>/<version>`   → signed manifest (see manifest.ts)
 * - `yank/<name>/<version>` → signed tombstone (see tombstone.ts)
 * - `blob/<sha256 hex>`     → where those bytes already are in the blob log (start, length),
 *                             so republishing the same bytes appends nothing
 * - `meta/blobs`            → the blob log's key, so followers can replicate it
 *
 * Hyperbee sorts keys, so one name's versions are one range scan; versions are compared with
 * semver, never as strings.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import Hyperbee from 'hyperbee'
import semver from 'semver'
import { encodeFields, put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { keyToHex } from '../keys.ts'
import type { Abi, ExecutionLimits } from '../sandbox/index.ts'
import { sha256Hex } from '../sandbox/index.ts'
import { MAX_MODULE_BYTES, resolveLimits } from '../sandbox/index.ts'
import { parseModule } from '../sandbox/index.ts'
import { resolveRange } from './function-ref.ts'
import { decodeSignedManifest, encodeSignedManifest, isValidVersion, NAME_PATTERN, signManifest, validateAuthDomains, type PriceParams, type SignedManifest } from './manifest.ts'
import { validateMounts, type ManifestMount } from './manifest-mounts.ts'
import { validateSecrets, type ManifestSecret } from './manifest-secrets.ts'
import { validateDocs, type FunctionExample, type ManifestDocs } from './manifest-docs.ts'
import { blobKeyPair, checkKeyPair, type PublisherKeyPair } from './publisher-keys.ts'
import { openTombstone, signTombstone, type SignedTombstone } from './tombstone.ts'
import { checkFit } from './verify.ts'

/**
 * Module bytes are split into 64 KiB blocks: small enough that a node fetches a module in a
 * handful of verified requests, large enough that Merkle proofs stay a small overhead.
 */
export const BLOB_BLOCK_BYTES = 64 * 1024

/** Default price: base 0, no floor of the publisher's: executors price by their own curve (docs/pricing.md). */
export const DEFAULT_PRICE: Readonly<PriceParams> = Object.freeze({ base: 0, curve: [1_000_000, 1_000_000, 1_000_000, 1_000_000] as PriceParams['curve'] })

const META_BLOBS = 'meta/blobs'

/** What `publish` needs besides the bytes. */
export interface PublishOptions {
  name: string
  version: string
  /** default: `wasi` when the module exports `_start`, else `raw` */
  abi?: Abi
  /** unset fields take the sandbox defaults */
  limits?: Partial<ExecutionLimits>
  /** Lit unified access control conditions; default public */
  access?: unknown[]
  /**
   * The app domains (host[:port]) whose SIWE auth executors accept for this function; needs
   * `access`. Default (or empty): each executor accepts only its own domain. See docs/access.md.
   */
  authDomains?: string[]
  price?: PriceParams
  /** default: now */
  createdAt?: number
  /** one line for catalogues, at most 280 characters (manifest-docs.ts has the bounds) */
  description?: string
  /** markdown, at most 16 KiB */
  readme?: string
  /** up to 4 example calls as UTF-8 text, each side at most 2 KiB */
  examples?: FunctionExample[]
  /** drives mounted read-only into every call (manifest-mounts.ts has the bounds) */
  mounts?: ManifestMount[]
  /** condition-gated secrets dealt to key holders, fetched by the executor per call (manifest-secrets.ts) */
  secrets?: ManifestSecret[]
}

/** One version as listed. */
export interface VersionInfo {
  version: string
  yanked: boolean
}

/** Where a blob sits in the blob log. */
interface BlobSpan { start: number, length: number }

/**
 * The domain list a publish call asks for, checked before any byte is stored: the caller's
 * mistake is `INVALID_ARGUMENT`, not a manifest that fails to sign after its blob was written.
 */
function publishDomains (opts: PublishOptions): string[] | undefined {
  if (opts.authDomains === undefined || (Array.isArray(opts.authDomains) && opts.authDomains.length === 0)) return undefined
  try {
    const domains = validateAuthDomains(opts.authDomains)
    if ((opts.access ?? []).length === 0) throw ShadwError.INVALID_ARGUMENT('authDomains needs access conditions: a public function checks no auth')
    return domains
  } catch (err) {
    if (err instanceof ShadwError && err.code === 'MANIFEST_INVALID') throw ShadwError.INVALID_ARGUMENT(err.message.replace(/^MANIFEST_INVALID: /, ''), err.details)
    throw err
  }
}

/** The documentation fields a publish call asks for, checked before any byte is stored. */
function publishDocs (opts: PublishOptions): ManifestDocs {
  try {
    return validateDocs({ description: opts.description, readme: opts.readme, examples: opts.examples })
  } catch (err) {
    if (err instanceof ShadwError && err.code === 'MANIFEST_INVALID') throw ShadwError.INVALID_ARGUMENT(err.message.replace(/^MANIFEST_INVALID: /, ''), err.details)
    throw err
  }
}

function fnKey (name: string, version: string): string { return `fn/${name}/${version}` }
function yankKey (name: string, version: string): string { return `yank/${name}/${version}` }

/**
 * One publisher's registry. {@link Registry.create} opens it for writing with the publisher's
 * key pair; {@link Registry.open} reads any publisher's registry from a Hypercore session.
 *
 * @example
 * ```ts
 * const reg = await Registry.create(store, publisherKeyPair)
 * const signed = await reg.publish(wasmBytes, { name: 'upper', version: '1.0.0' })
 * ```
 */
export class Registry {
  /** publisher key = registry Hypercore key, hex */
  readonly key: string
  readonly #bee: Hyperbee<Uint8Array>
  readonly #writer: { keyPair: PublisherKeyPair, blobs: Hypercore } | null

  private constructor (bee: Hyperbee<Uint8Array>, writer: { keyPair: PublisherKeyPair, blobs: Hypercore } | null) {
    if (bee.core.key === null) throw ShadwError.INTERNAL('registry core has no key')
    this.key = keyToHex(bee.core.key)
    this.#bee = bee
    this.#writer = writer
  }

  /** Opens the publisher's own registry (and blob log) in `store` for writing. */
  static async create (store: Corestore, keyPair: PublisherKeyPair): Promise<Registry> {
    checkKeyPair(keyPair)
    // Corestore 6 in compat mode keys a core opened with a key pair by its public key
    const get = store.get.bind(store) as unknown as (opts: { keyPair: PublisherKeyPair }) => Hypercore
    const core = get({ keyPair })
    const blobs = get({ keyPair: blobKeyPair(keyPair) })
    const bee = new Hyperbee<Uint8Array>(core, { keyEncoding: 'utf-8', valueEncoding: 'binary' })
    await bee.ready()
    await blobs.ready()
    if (!core.writable || !blobs.writable) throw ShadwError.INTERNAL('registry cores are not writable with the publisher key pair')
    const reg = new Registry(bee, { keyPair, blobs })
    if (await bee.get(META_BLOBS) === null) await bee.put(META_BLOBS, b4a.from(blobs.key as Uint8Array))
    return reg
  }

  /** Reads a registry from a Hypercore (typically a session of a followed log); closes it on close(). */
  static async open (core: Hypercore): Promise<Registry> {
    const bee = new Hyperbee<Uint8Array>(core, { keyEncoding: 'utf-8', valueEncoding: 'binary' })
    await bee.ready()
    return new Registry(bee, null)
  }

  /** The Hypercore the registry lives in. */
  get core (): Hypercore {
    return this.#bee.core
  }

  /** The blob log's key, hex; null until the registry's first block is known. */
  async blobKey (): Promise<string | null> {
    if (this.#writer !== null) return keyToHex(this.#writer.blobs.key as Uint8Array)
    if (this.#bee.core.length === 0) return null
    const entry = await this.#bee.get(META_BLOBS)
    if (entry === null || entry.value.byteLength !== 32) return null
    return keyToHex(entry.value)
  }

  /**
   * Publishes a module as `name@version`: checks it is a module the sandbox accepts with its
   * ABI, appends its bytes to the blob log (once per distinct hash), signs the manifest and
   * stores it. Versions are immutable: publishing one twice throws VERSION_EXISTS.
   */
  async publish (module: Uint8Array, opts: PublishOptions): Promise<SignedManifest> {
    const w = this.#requireWriter()
    if (typeof opts.name !== 'string' || !NAME_PATTERN.test(opts.name)) throw ShadwError.INVALID_ARGUMENT(`name must match ${String(NAME_PATTERN)}`)
    if (!isValidVersion(opts.version)) throw ShadwError.INVALID_ARGUMENT('version must be a semver version such as 1.2.3 (no build metadata)')
    if (await this.#bee.get(fnKey(opts.name, opts.version)) !== null) throw ShadwError.VERSION_EXISTS(`${this.key}/${opts.name}@${opts.version}`)
    if (module.byteLength > MAX_MODULE_BYTES) throw ShadwError.MODULE_TOO_LARGE(module.byteLength, MAX_MODULE_BYTES)
    if (module.byteLength === 0) throw ShadwError.INVALID_MODULE('module is empty')
    const parsed = parseModule(module)
    const abi = opts.abi ?? (parsed.exports.some(e => e.name === '_start' && e.kind === 'func') ? 'wasi' : 'raw')
    const limits = resolveLimits(opts.limits)
    const authDomains = publishDomains(opts)
    const docs = publishDocs(opts)
    let mounts: ManifestMount[] | undefined
    let secrets: ManifestSecret[] | undefined
    try {
      mounts = validateMounts(opts.mounts)
      secrets = validateSecrets(opts.secrets)
    } catch (err) {
      throw ShadwError.INVALID_ARGUMENT((err as Error).message.replace(/^MANIFEST_INVALID: /, ''))
    }
    checkFit(parsed, abi, limits.memoryPages)
    const moduleHash = await sha256Hex(module)
    const span = await this.#storeBlob(w.blobs, moduleHash, module)
    const signed = signManifest({
      name: opts.name,
      version: opts.version,
      moduleHash,
      size: module.byteLength,
      abi,
      limits,
      access: opts.access ?? [],
      ...(authDomains === undefined ? {} : { authDomains }),
      price: opts.price ?? DEFAULT_PRICE,
      publisher: this.key,
      createdAt: opts.createdAt ?? Date.now(),
      blob: { key: keyToHex(w.blobs.key as Uint8Array), ...span },
      ...docs,
      ...(mounts === undefined ? {} : { mounts }),
      ...(secrets === undefined ? {} : { secrets })
    }, w.keyPair.secretKey)
    await this.#bee.put(fnKey(opts.name, opts.version), encodeSignedManifest(signed))
    return signed
  }

  async #storeBlob (blobs: Hypercore, hash: string, bytes: Uint8Array): Promise<BlobSpan> {
    const known = await this.#bee.get(`blob/${hash}`)
    if (known !== null) {
      const state = c.state(0, known.value.byteLength, known.value)
      return { start: c.uint.decode(state), length: c.uint.decode(state) }
    }
    const chunks: Uint8Array[] = []
    for (let i = 0; i < bytes.byteLength; i += BLOB_BLOCK_BYTES) chunks.push(bytes.slice(i, i + BLOB_BLOCK_BYTES))
    const start = blobs.length
    await blobs.append(chunks)
    const span = { start, length: chunks.length }
    await this.#bee.put(`blob/${hash}`, encodeFields((s, pre) => {
      put(s, pre, c.uint, span.start)
      put(s, pre, c.uint, span.length)
    }))
    return span
  }

  /** Yanks `name@version` with a signed tombstone; new calls will refuse it. Idempotent. */
  async yank (name: string, version: string, reason = ''): Promise<void> {
    const w = this.#requireWriter()
    if (await this.#bee.get(fnKey(name, version)) === null) throw ShadwError.VERSION_NOT_FOUND(`${this.key}/${name}@${version}`)
    if (await this.#bee.get(yankKey(name, version)) !== null) return
    await this.#bee.put(yankKey(name, version), signTombstone({ name, version, publisher: this.key, yankedAt: Date.now(), reason }, w.keyPair.secretKey))
  }

  /** Every function name in the registry, sorted. */
  async names (): Promise<string[]> {
    const names = new Set<string>()
    for await (const { key } of this.#bee.createReadStream({ gt: 'fn/', lt: 'fn0' })) {
      names.add(key.slice(3, key.indexOf('/', 3)))
    }
    return [...names].sort()
  }

  /** The versions of `name`, highest first, with their yank state. */
  async versions (name: string): Promise<VersionInfo[]> {
    const out: VersionInfo[] = []
    for await (const { key } of this.#bee.createReadStream({ gt: `fn/${name}/`, lt: `fn/${name}0` })) {
      const version = key.slice(`fn/${name}/`.length)
      if (!isValidVersion(version)) continue
      out.push({ version, yanked: await this.#bee.get(yankKey(name, version)) !== null })
    }
    return out.sort((a, b) => semver.rcompare(a.version, b.version))
  }

  /** The stored signed manifest of `name@version` (not yet verified), or null. */
  async manifest (name: string, version: string): Promise<Uint8Array | null> {
    return (await this.#bee.get(fnKey(name, version)))?.value ?? null
  }

  /** The tombstone of `name@version`, signature checked, or null when not yanked. */
  async tombstone (name: string, version: string): Promise<SignedTombstone | null> {
    const entry = await this.#bee.get(yankKey(name, version))
    return entry === null ? null : openTombstone(entry.value, this.key)
  }

  /**
   * Resolves a range to the highest version not yanked. Throws FUNCTION_NOT_FOUND when the
   * name has no versions, FUNCTION_YANKED when only yanked versions match, VERSION_NOT_FOUND
   * when none matches.
   */
  async resolve (name: string, range: string): Promise<string> {
    const ref = `${this.key}/${name}@${range}`
    const versions = await this.versions(name)
    if (versions.length === 0) throw ShadwError.FUNCTION_NOT_FOUND(ref)
    const live = resolveRange(versions.map(v => v.version), range, new Set(versions.filter(v => v.yanked).map(v => v.version)))
    if (live !== null) return live
    const any = resolveRange(versions.map(v => v.version), range)
    if (any !== null) throw ShadwError.FUNCTION_YANKED(`${this.key}/${name}@${any}`, (await this.tombstone(name, any))?.tombstone.reason)
    throw ShadwError.VERSION_NOT_FOUND(ref)
  }

  /** Decoded (unverified) manifest of `name@version`; throws VERSION_NOT_FOUND when absent. */
  async signedManifest (name: string, version: string): Promise<SignedManifest> {
    const stored = await this.manifest(name, version)
    if (stored === null) throw ShadwError.VERSION_NOT_FOUND(`${this.key}/${name}@${version}`)
    return decodeSignedManifest(stored)
  }

  /** Closes the Hyperbee (and the blob log when writing). */
  async close (): Promise<void> {
    await this.#bee.close()
    await this.#writer?.blobs.close()
  }

  #requireWriter (): { keyPair: PublisherKeyPair, blobs: Hypercore } {
    if (this.#writer === null) throw ShadwError.INVALID_ARGUMENT(`registry ${this.key} is not writable here`)
    return this.#writer
  }
}
