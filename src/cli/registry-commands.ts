/**
 * `shadw publish`, `shadw list`, `shadw yank`, `shadw inspect`: the publisher's side of the
 * registry, working on a super node's storage directory.
 *
 * They open the Corestore directory directly (default: the one `shadw start` uses), so a
 * publish is served to the swarm the next time the super node starts there; while a super
 * node holds the directory they refuse with STORAGE_LOCKED rather than race its writes.
 */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import b4a from 'b4a'
import Corestore from 'corestore'
import { ShadwError } from '../core/errors.ts'
import { HEX_KEY_PATTERN } from '../core/hex.ts'
import { parseKey } from '../core/keys.ts'
import {
  isValidAuthDomain, isValidVersion, parseFunctionRef, parseRefOrAlias, Registry, RegistryFollows, verifyFunction, verifyManifest,
  type FunctionAliases, type FunctionExample, type FunctionRef, type PublishOptions, type SignedManifest, type VerifiedFunction
} from '../core/registry/index.ts'
import type { Abi, ExecutionLimits } from '../core/sandbox/index.ts'
import { MAX_MODULE_BYTES } from '../core/sandbox/index.ts'
import { defaultDir } from '../super-node/data-dir.ts'
import { keyFilePath, loadKeys } from '../super-node/keystore.ts'
import { storageError } from '../super-node/storage-error.ts'
import { checkConditions } from '../core/access/index.ts'
import { closeNames } from './close-names.ts'
import { dealSecrets, readSecretFlags, SECRET_OPTIONS } from './publish-secrets.ts'

/** Usage lines shown in `shadw help`. */
export const REGISTRY_USAGE = `shadw publish <module.wasm> --name NAME --version X.Y.Z [--abi raw|wasi] [--access FILE.json]
              [--auth-domain HOST[:PORT]]... [--fuel N] [--memory PAGES] [--deadline MS] [--max-input BYTES] [--max-output BYTES]
              [--price N] [--description TEXT] [--readme FILE.md] [--example-input TEXT --example-output TEXT]
              [--examples FILE.json] [--storage DIR] [--json]
shadw list [PUBLISHER] [--storage DIR] [--json]
shadw yank <[PUBLISHER/]NAME@VERSION> [--reason TEXT] [--storage DIR]
shadw inspect <[PUBLISHER/]NAME[@RANGE]> [--storage DIR] [--json]
shadw follow [PUBLISHER] [--storage DIR]`

/** File of local aliases in the config directory. */
export const ALIASES_FILE_NAME = 'aliases.json'
/** Alias files larger than this are refused before parsing. */
const MAX_ALIASES_FILE_BYTES = 256 * 1024
/**
 * README and example files larger than this are refused before reading (the manifest's own
 * bounds, 16 KiB of README and four examples of 2 KiB a side, are the registry's to check).
 */
const MAX_DOC_FILE_BYTES = 64 * 1024
/** Access condition files larger than this are refused before parsing. */
const MAX_ACCESS_FILE_BYTES = 64 * 1024

type Out = (s: string) => void
const stdout: Out = s => { process.stdout.write(s) }

function defaultStorage (): string {
  return join(defaultDir('data'), 'super-node')
}

async function openStore (dir: string): Promise<Corestore> {
  const store = new Corestore(dir)
  try {
    await store.ready()
  } catch (err) {
    await store.close().catch(() => {})
    throw storageError(dir, err)
  }
  return store
}

async function withStore<T> (dir: string, fn: (store: Corestore) => Promise<T>): Promise<T> {
  const store = await openStore(dir)
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

function integer (flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw ShadwError.INVALID_ARGUMENT(`--${flag} needs a non-negative integer`)
  return Number(value)
}

/** A full reference, as opposed to an alias or one of the user's own names: it starts with a publisher key. */
const KEY_PREFIXED = new RegExp(`^${HEX_KEY_PATTERN}/`)

/**
 * `<key>/<name>@<range>`; or `<alias>[@<range>]` from `aliases.json` in the config directory
 * (`{ "short": "<key>/<name>" }`); or `<name>@<range>` for the user's own functions.
 */
export async function parseRef (input: string | undefined): Promise<FunctionRef> {
  if (input === undefined) throw ShadwError.INVALID_FUNCTION_REF('', 'a function reference is required')
  if (KEY_PREFIXED.test(input)) return parseFunctionRef(input)
  const aliases = await loadAliases()
  if (Object.hasOwn(aliases, input.split('@')[0] as string)) return parseRefOrAlias(input, aliases)
  let own
  try {
    own = await loadKeys(keyFilePath())
  } catch (err) {
    if (!(err instanceof ShadwError) || err.code !== 'KEYS_NOT_FOUND') throw err
    // the user may not know a bare name means "mine": name both ways out
    const name = input.split('@')[0] as string
    throw new ShadwError('KEYS_NOT_FOUND', `${JSON.stringify(input)} names one of your own functions (no publisher key before it), and you have no publisher keys at ${String(err.details?.['path'])}: run \`shadw keys create\` to make them, or name the publisher: PUBLISHER/${input} (\`shadw search ${name}\` lists who has it)`, { cause: err, ...(err.details === undefined ? {} : { details: err.details }) })
  }
  return parseFunctionRef(`${own.publicKey}/${input}`)
}

/** The user's local aliases; none when the file does not exist. */
async function loadAliases (): Promise<FunctionAliases> {
  const path = join(defaultDir('config'), ALIASES_FILE_NAME)
  const exists = await stat(path).then(() => true, (err: { code?: string }) => err.code !== 'ENOENT')
  if (!exists) return {}
  const bytes = await readBounded(path, MAX_ALIASES_FILE_BYTES, 'aliases')
  let value: unknown
  try {
    value = JSON.parse(b4a.toString(bytes))
  } catch {
    throw ShadwError.INVALID_ARGUMENT(`${path} is not JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every(v => typeof v === 'string')) {
    throw ShadwError.INVALID_ARGUMENT(`${path} must map short names to "<publisher-key>/<name>" strings`)
  }
  return value as FunctionAliases
}

/** Opens a publisher's registry in the store, refusing publishers the storage does not hold. */
async function openRegistry (store: Corestore, publisher: string): Promise<Registry> {
  const core = store.get({ key: parseKey(publisher) })
  await core.ready()
  if (core.length === 0) {
    await core.close()
    throw ShadwError.FUNCTION_NOT_FOUND(publisher, 'no registry of this publisher in this storage')
  }
  return await Registry.open(core)
}

/** Resolves a range; a name the registry lacks is answered with the close names it has. */
async function resolveOrSuggest (registry: Registry, ref: FunctionRef): Promise<string> {
  try {
    return await registry.resolve(ref.name, ref.range)
  } catch (err) {
    if ((err as ShadwError).code !== 'FUNCTION_NOT_FOUND') throw err
    const names = await registry.names()
    if (names.includes(ref.name)) throw err
    const close = closeNames(ref.name, names)
    const hint = close.length > 0 ? `did you mean ${close.join(' or ')}?` : `it has ${names.length === 0 ? 'none' : names.slice(0, 10).join(', ')}`
    throw new ShadwError('FUNCTION_NOT_FOUND', `no function ${JSON.stringify(ref.name)} in the registry of ${ref.publisher}; ${hint} (shadw list ${ref.publisher} lists them)`, { details: { ref: `${ref.publisher}/${ref.name}@${ref.range}`, close } })
  }
}

/**
 * The function names of `publisher`'s registry in the local storage, for "did you mean";
 * none when the storage does not exist, does not hold that registry or is held by a running node.
 */
export async function localFunctionNames (publisher: string, storage: string = defaultStorage()): Promise<string[]> {
  const exists = await stat(storage).then(s => s.isDirectory(), () => false)
  if (!exists) return []
  return await withStore(storage, async store => {
    const registry = await openRegistry(store, publisher)
    try {
      return await registry.names()
    } finally {
      await registry.close()
    }
  }).catch(() => [])
}

/** Runs `shadw publish`. */
export async function publishCommand (argv: string[], out: Out = stdout): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string' },
      version: { type: 'string' },
      abi: { type: 'string' },
      access: { type: 'string' },
      'auth-domain': { type: 'string', multiple: true },
      fuel: { type: 'string' },
      memory: { type: 'string' },
      deadline: { type: 'string' },
      'max-input': { type: 'string' },
      'max-output': { type: 'string' },
      price: { type: 'string' },
      description: { type: 'string' },
      readme: { type: 'string' },
      'example-input': { type: 'string' },
      'example-output': { type: 'string' },
      examples: { type: 'string' },
      storage: { type: 'string', default: defaultStorage() },
      json: { type: 'boolean', default: false },
      ...SECRET_OPTIONS
    },
    allowPositionals: true,
    strict: true
  })
  if (positionals.length !== 1) throw ShadwError.INVALID_ARGUMENT('expected exactly one module file')
  const docs = await readDocs(values)
  // every secret flag and file is checked before the store is opened or a holder is sought
  const secretPlan = await readSecretFlags(values)
  if (values.name === undefined) throw ShadwError.INVALID_ARGUMENT('--name is required')
  if (values.version === undefined || !isValidVersion(values.version)) throw ShadwError.INVALID_ARGUMENT('--version X.Y.Z is required (semver, no build metadata)')
  if (values.abi !== undefined && values.abi !== 'raw' && values.abi !== 'wasi') throw ShadwError.INVALID_ARGUMENT('--abi must be raw or wasi')
  const limits: Partial<ExecutionLimits> = {}
  const set = (field: keyof ExecutionLimits, flag: string, v: string | undefined): void => {
    const n = integer(flag, v)
    if (n !== undefined) limits[field] = n
  }
  set('fuel', 'fuel', values.fuel)
  set('memoryPages', 'memory', values.memory)
  set('deadlineMs', 'deadline', values.deadline)
  set('maxInputBytes', 'max-input', values['max-input'])
  set('maxOutputBytes', 'max-output', values['max-output'])
  const price = integer('price', values.price)

  const keys = await loadKeys(keyFilePath())
  const module = await readBounded(positionals[0] as string, MAX_MODULE_BYTES, 'module')
  const access = values.access === undefined ? [] : await readAccess(values.access)
  const authDomains = values['auth-domain'] ?? []
  if (authDomains.length > 0 && access.length === 0) throw ShadwError.INVALID_ARGUMENT('--auth-domain needs --access: a public function checks no auth')
  for (const d of authDomains) if (!isValidAuthDomain(d)) throw ShadwError.INVALID_ARGUMENT(`--auth-domain ${JSON.stringify(String(d).slice(0, 80))} is not a lowercase host[:port] as a browser's location.host (no scheme or path)`)
  // the holders check the auth's domain themselves, against the manifest's, never their own
  if (secretPlan !== null && (values.abi !== 'wasi' || access.length === 0 || authDomains.length === 0)) throw ShadwError.SECRET_INVALID('--secret needs --abi wasi (the function reads it from its environment), --access (a secret every caller may have is not gated) and --auth-domain (the key holders check the auth against it)')

  const signed = await withStore(values.storage, async store => {
    const registry = await Registry.create(store, keys.keyPair)
    try {
      let secrets
      if (secretPlan !== null) {
        // by default the super node this storage is served by: the one executor the publisher surely trusts
        const executors = secretPlan.executors ?? [b4a.toString((await (await import('../core/node/index.ts')).nodeIdentity(store)).publicKey, 'hex')]
        const fn = { publisher: registry.key, name: values.name as string, version: values.version as string }
        secrets = await dealSecrets(secretPlan, { fn, access, domains: authDomains, executors, publisherSecretKey: keys.keyPair.secretKey }, line => { process.stderr.write(line) })
      }
      const s = await registry.publish(module, {
        name: values.name as string,
        version: values.version as string,
        abi: values.abi as Abi | undefined,
        limits,
        access,
        authDomains,
        ...docs,
        ...(secrets === undefined ? {} : { secrets }),
        ...(price === undefined ? {} : { price: { base: price, curve: [1_000_000, 1_000_000, 1_000_000, 1_000_000] } })
      })
      const follows = await RegistryFollows.open(store)
      await follows.add(registry.key)
      await follows.close()
      return s
    } finally {
      await registry.close()
    }
  })
  const m = signed.manifest
  if (values.json) {
    out(JSON.stringify({ ref: `${m.publisher}/${m.name}@${m.version}`, manifest: m, signature: b4a.toString(signed.signature, 'hex'), storage: values.storage }) + '\n')
  } else {
    out([
      `published ${m.publisher}/${m.name}@${m.version}`,
      ...describe(signed),
      `  storage:   ${values.storage} (served by \`shadw start --storage ${values.storage}\`)`,
      ''
    ].join('\n'))
  }
  return 0
}

/** Runs `shadw list [publisher]`: the user's own functions by default. */
export async function listCommand (argv: string[], out: Out = stdout): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { storage: { type: 'string', default: defaultStorage() }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true
  })
  if (positionals.length > 1) throw ShadwError.INVALID_ARGUMENT('expected at most one publisher key')
  const publisher = positionals[0] !== undefined ? keyToHexStrict(positionals[0]) : (await loadKeys(keyFilePath())).publicKey
  const listing = await withStore(values.storage, async store => {
    const registry = await openRegistry(store, publisher)
    try {
      const fns: Array<{ name: string, versions: Array<{ version: string, yanked: boolean }> }> = []
      for (const name of await registry.names()) fns.push({ name, versions: await registry.versions(name) })
      return fns
    } finally {
      await registry.close()
    }
  })
  if (values.json) {
    out(JSON.stringify({ publisher, functions: listing }) + '\n')
    return 0
  }
  out(`publisher ${publisher}\n`)
  if (listing.length === 0) out('  (no functions)\n')
  for (const fn of listing) {
    out(`  ${fn.name}  ${fn.versions.map(v => v.yanked ? `${v.version} (yanked)` : v.version).join(', ')}\n`)
  }
  return 0
}

/** Runs `shadw yank <ref>`: only the user's own functions, exact versions. */
export async function yankCommand (argv: string[], out: Out = stdout): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { storage: { type: 'string', default: defaultStorage() }, reason: { type: 'string', default: '' } },
    allowPositionals: true,
    strict: true
  })
  if (positionals.length !== 1) throw ShadwError.INVALID_ARGUMENT('expected exactly one function reference')
  const ref = await parseRef(positionals[0])
  if (!isValidVersion(ref.range)) throw ShadwError.INVALID_FUNCTION_REF(positionals[0] as string, 'yank needs an exact version (name@X.Y.Z)')
  const keys = await loadKeys(keyFilePath())
  if (ref.publisher !== keys.publicKey) throw ShadwError.INVALID_ARGUMENT(`only the publisher can yank: your key is ${keys.publicKey}`)
  await withStore(values.storage, async store => {
    const registry = await Registry.create(store, keys.keyPair)
    try {
      await registry.yank(ref.name, ref.range, values.reason)
    } finally {
      await registry.close()
    }
  })
  out(`yanked ${ref.publisher}/${ref.name}@${ref.range}${values.reason === '' ? '' : ` (${values.reason})`}\n`)
  return 0
}

/** Runs `shadw inspect <ref>`: resolves, verifies, and prints the manifest. */
export async function inspectCommand (argv: string[], out: Out = stdout): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { storage: { type: 'string', default: defaultStorage() }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true
  })
  if (positionals.length !== 1) throw ShadwError.INVALID_ARGUMENT('expected exactly one function reference')
  const ref = await parseRef(positionals[0])
  const result = await withStore(values.storage, async store => {
    const registry = await openRegistry(store, ref.publisher)
    try {
      const version = await resolveOrSuggest(registry, ref)
      const tomb = await registry.tombstone(ref.name, version)
      const ctx = { registryKey: registry.key, yanked: tomb !== null, yankReason: tomb?.tombstone.reason, expect: { name: ref.name, version } }
      const signed = verifyManifest(await registry.signedManifest(ref.name, version), ctx)
      const module = await readLocalBlob(store, signed)
      const verified: VerifiedFunction | null = module === null ? null : await verifyFunction(signed, module, ctx)
      return { signed, moduleVerified: verified !== null }
    } finally {
      await registry.close()
    }
  })
  const m = result.signed.manifest
  if (values.json) {
    out(JSON.stringify({ ref: `${m.publisher}/${m.name}@${m.version}`, verified: true, moduleVerified: result.moduleVerified, manifest: m, signature: b4a.toString(result.signed.signature, 'hex') }) + '\n')
  } else {
    out([
      `${m.publisher}/${m.name}@${m.version}`,
      `  verified:  signature, publisher = registry, limits within this node's ceilings, not yanked${result.moduleVerified ? ', module bytes' : ' (module bytes not stored here)'}`,
      ...describe(result.signed),
      ''
    ].join('\n'))
  }
  return 0
}

/**
 * Runs `shadw follow <publisher>`: the super node on this storage mirrors and serves that
 * publisher's registry from its next start. Without a publisher, lists the followed ones.
 */
export async function followCommand (argv: string[], out: Out = stdout): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { storage: { type: 'string', default: defaultStorage() } },
    allowPositionals: true,
    strict: true
  })
  if (positionals.length > 1) throw ShadwError.INVALID_ARGUMENT('expected at most one publisher key')
  const publisher = positionals[0] === undefined ? null : keyToHexStrict(positionals[0])
  const listed = await withStore(values.storage, async store => {
    const follows = await RegistryFollows.open(store)
    try {
      if (publisher !== null) await follows.add(publisher)
      return await follows.list()
    } finally {
      await follows.close()
    }
  })
  if (publisher !== null) out(`following ${publisher}; the super node on ${values.storage} serves it from its next start\n`)
  else for (const key of listed) out(`${key}\n`)
  return 0
}

function describe (signed: SignedManifest): string[] {
  const m = signed.manifest
  const l = m.limits
  return [
    ...(m.description === undefined ? [] : [`  about:     ${m.description}`]),
    `  module:    sha256 ${m.moduleHash} (${m.size} bytes, blob blocks ${m.blob.start}-${m.blob.start + m.blob.length - 1})`,
    `  abi:       ${m.abi}`,
    `  limits:    fuel ${l.fuel}, memory ${l.memoryPages} pages, deadline ${l.deadlineMs} ms, input ${l.maxInputBytes} B, output ${l.maxOutputBytes} B`,
    `  access:    ${m.access.length === 0 ? 'public' : `${m.access.length} Lit condition(s)`}`,
    ...(m.access.length === 0 ? [] : [`  auth for:  ${m.authDomains === undefined ? "each executor's own app domain" : m.authDomains.join(', ')}`]),
    ...(m.secrets ?? []).map(x => `  secret:    ${x.name} (${x.threshold} of ${x.holders.length} key holders; released to ${x.executors.map(e => e.slice(0, 8)).join(', ')} only)`),
    `  price:     base ${m.price.base} µcredits per million fuel (a floor under executors' prices; 0: theirs alone), curve ${m.price.curve.join(' ')} ppm`,
    `  created:   ${new Date(m.createdAt).toISOString()}`,
    ...(m.examples ?? []).map((e, i) => `  example ${i + 1}: ${JSON.stringify(e.input)} -> ${JSON.stringify(e.output)}`),
    ...(m.readme === undefined ? [] : [`  readme:    ${m.readme.length} characters (--json shows it)`]),
    `  signature: ${b4a.toString(signed.signature, 'hex')}`
  ]
}

/** The module bytes when every block is stored locally, else null (never fetched here). */
async function readLocalBlob (store: Corestore, signed: SignedManifest): Promise<Uint8Array | null> {
  const { blob } = signed.manifest
  const core = store.get({ key: parseKey(blob.key) })
  try {
    await core.ready()
    const blocks: Uint8Array[] = []
    for (let i = blob.start; i < blob.start + blob.length; i++) {
      if (!(await core.has(i))) return null
      const block = await core.get(i, { wait: false })
      if (block === null) return null
      blocks.push(block)
    }
    return b4a.concat(blocks)
  } finally {
    await core.close()
  }
}

function keyToHexStrict (input: string): string {
  return b4a.toString(parseKey(input), 'hex')
}

async function readBounded (path: string, max: number, what: string): Promise<Uint8Array> {
  try {
    const st = await stat(path)
    if (st.size > max) throw what === 'module' ? ShadwError.MODULE_TOO_LARGE(st.size, max) : ShadwError.INVALID_ARGUMENT(`${path} is larger than ${max} bytes`)
    return new Uint8Array(await readFile(path))
  } catch (err) {
    if (err instanceof ShadwError) throw err
    throw ShadwError.INVALID_ARGUMENT(`cannot read ${what} ${path}: ${(err as Error).message}`)
  }
}

async function readAccess (path: string): Promise<unknown[]> {
  const text = b4a.toString(await readBounded(path, MAX_ACCESS_FILE_BYTES, 'access conditions'))
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw ShadwError.INVALID_ARGUMENT(`${path} is not JSON`)
  }
  if (!Array.isArray(value)) throw ShadwError.INVALID_ARGUMENT(`${path} must hold a JSON array of Lit access control conditions`)
  // Lit's own validator, at publish time: a manifest with conditions no node can evaluate
  // would be signed and replicated for nothing
  await checkConditions(value)
  return value
}

/**
 * The documentation flags of `shadw publish`: `--description`, `--readme FILE` (markdown),
 * and examples from `--example-input`/`--example-output` (one pair) or `--examples FILE`
 * (a JSON array of `{ "input": "…", "output": "…" }`). Bounds are checked by the registry.
 */
async function readDocs (values: { description?: string, readme?: string, 'example-input'?: string, 'example-output'?: string, examples?: string }): Promise<Pick<PublishOptions, 'description' | 'readme' | 'examples'>> {
  const pair = [values['example-input'], values['example-output']]
  if (pair.filter(v => v !== undefined).length === 1) throw ShadwError.INVALID_ARGUMENT('--example-input and --example-output go together')
  if (pair[0] !== undefined && values.examples !== undefined) throw ShadwError.INVALID_ARGUMENT('--examples FILE and --example-input/--example-output exclude each other')
  let examples: FunctionExample[] | undefined
  if (pair[0] !== undefined && pair[1] !== undefined) examples = [{ input: pair[0], output: pair[1] }]
  if (values.examples !== undefined) {
    const path = values.examples
    let value: unknown
    try {
      value = JSON.parse(b4a.toString(await readBounded(path, MAX_DOC_FILE_BYTES, 'examples')))
    } catch (err) {
      if (err instanceof ShadwError) throw err
      throw ShadwError.INVALID_ARGUMENT(`${path} is not JSON`)
    }
    if (!Array.isArray(value)) throw ShadwError.INVALID_ARGUMENT(`${path} must hold a JSON array of { "input": "…", "output": "…" }`)
    examples = value as FunctionExample[]
  }
  const readme = values.readme === undefined ? undefined : b4a.toString(await readBounded(values.readme, MAX_DOC_FILE_BYTES, 'README'))
  return {
    ...(values.description === undefined ? {} : { description: values.description }),
    ...(readme === undefined ? {} : { readme }),
    ...(examples === undefined ? {} : { examples })
  }
}
