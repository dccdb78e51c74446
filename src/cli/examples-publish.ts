/**
 * The examples of `examples/`, read from their `example.json` and published under a local
 * example publisher whose key is kept in the node's storage (not the user's own key: the
 * examples are this checkout's, and a user's registry should hold only what they publish).
 *
 * `example.json`: `{ name, version, abi, language, title, description, module, example: { input |
 * inputFile, output | outputFile } }`; text input and output are UTF-8 strings, binary ones
 * name a file beside it.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Corestore from 'corestore'
import { ShadwError } from '../core/errors.ts'
import { isValidVersion, Registry, RegistryFollows } from '../core/registry/index.ts'
import { MAX_MODULE_BYTES, type Abi } from '../core/sandbox/index.ts'
import { createKeys, loadKeys } from '../super-node/keystore.ts'
import { storageError } from '../super-node/storage-error.ts'

/** The examples of this checkout. */
export const EXAMPLES_ROOT = fileURLToPath(new URL('../../examples', import.meta.url))
/** The example publisher's key file, inside the node's storage. */
export const EXAMPLE_KEY_FILE = 'example-publisher.json'
/** example.json files larger than this are refused before parsing. */
const MAX_EXAMPLE_JSON_BYTES = 64 * 1024
/** Example input and output files: what one call takes and gives (the sandbox's default limit). */
const MAX_EXAMPLE_IO_BYTES = 1024 * 1024
/** Example names: what a function name may be, and a directory name too. */
const EXAMPLE_NAME = /^[a-z][a-z0-9-]{0,63}$/

/** One example as its `example.json` describes it, with its bytes read. */
export interface Example {
  name: string
  version: string
  abi: Abi
  language: string
  /** a few words for the banner and lists */
  title: string
  description: string
  /** the built module */
  module: Uint8Array
  /** the documented input and the output it must give */
  input: Uint8Array
  output: Uint8Array
  /** the directory it lives in */
  dir: string
}

/** What a first start published. */
export interface PublishedExamples {
  publisher: string
  refs: Array<{ example: Example, ref: string }>
}

function field (o: Record<string, unknown>, key: string, path: string): string {
  const v = o[key]
  if (typeof v !== 'string' || v.length === 0 || v.length > 1000) throw ShadwError.INVALID_ARGUMENT(`${path}: "${key}" must be a non-empty string of at most 1000 characters`)
  return v
}

async function bounded (path: string, max: number): Promise<Uint8Array> {
  const st = await stat(path).catch(() => null)
  if (st === null || !st.isFile()) throw ShadwError.INVALID_ARGUMENT(`${path} is missing; npm run examples builds the examples`)
  if (st.size > max) throw ShadwError.INVALID_ARGUMENT(`${path} is larger than ${max} bytes`)
  return new Uint8Array(await readFile(path))
}

/** Text given inline, or the bytes of a file beside example.json. */
async function bytesOf (o: Record<string, unknown>, key: 'input' | 'output', dir: string, path: string): Promise<Uint8Array> {
  if (typeof o[key] === 'string') return new TextEncoder().encode(o[key])
  const file = o[`${key}File`]
  if (typeof file !== 'string' || !/^[\w.-]+$/.test(file)) throw ShadwError.INVALID_ARGUMENT(`${path}: example needs "${key}" (text) or "${key}File" (a file name beside it)`)
  return await bounded(join(dir, file), MAX_EXAMPLE_IO_BYTES)
}

/** Reads and checks one example directory's `example.json` and the files it names. */
export async function readExample (dir: string): Promise<Example> {
  const path = join(dir, 'example.json')
  let o: unknown
  try {
    o = JSON.parse(new TextDecoder().decode(await bounded(path, MAX_EXAMPLE_JSON_BYTES)))
  } catch (err) {
    if (err instanceof ShadwError) throw err
    throw ShadwError.INVALID_ARGUMENT(`${path} is not JSON`)
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw ShadwError.INVALID_ARGUMENT(`${path} must hold an object`)
  const m = o as Record<string, unknown>
  const name = field(m, 'name', path)
  if (!EXAMPLE_NAME.test(name)) throw ShadwError.INVALID_ARGUMENT(`${path}: name must match ${String(EXAMPLE_NAME)}`)
  const version = field(m, 'version', path)
  if (!isValidVersion(version)) throw ShadwError.INVALID_ARGUMENT(`${path}: version must be X.Y.Z`)
  const abi = field(m, 'abi', path)
  if (abi !== 'raw' && abi !== 'wasi') throw ShadwError.INVALID_ARGUMENT(`${path}: abi must be raw or wasi`)
  const moduleFile = field(m, 'module', path)
  if (!/^[\w.-]+\.wasm$/.test(moduleFile)) throw ShadwError.INVALID_ARGUMENT(`${path}: module must be a .wasm file name beside it`)
  const example = m['example']
  if (typeof example !== 'object' || example === null) throw ShadwError.INVALID_ARGUMENT(`${path}: "example" must give an input and its output`)
  const ex = example as Record<string, unknown>
  return {
    name,
    version,
    abi,
    language: field(m, 'language', path),
    title: field(m, 'title', path),
    description: field(m, 'description', path),
    module: await bounded(join(dir, moduleFile), MAX_MODULE_BYTES),
    input: await bytesOf(ex, 'input', dir, path),
    output: await bytesOf(ex, 'output', dir, path),
    dir
  }
}

/** Every example under `root`, by name. */
export async function readExamples (root: string = EXAMPLES_ROOT): Promise<Example[]> {
  // a checkout without examples/ (a package install) starts with none
  const entries = await readdir(root, { withFileTypes: true }).catch((err: { code?: string }) => { if (err.code === 'ENOENT') return []; throw err })
  const dirs = entries.filter(e => e.isDirectory() && EXAMPLE_NAME.test(e.name)).map(e => e.name).sort()
  const out: Example[] = []
  for (const d of dirs) {
    const has = await stat(join(root, d, 'example.json')).then(() => true, () => false)
    if (has) out.push(await readExample(join(root, d)))
  }
  return out
}

/**
 * Publishes every example under the example publisher of `storage` (creating its key there
 * on first use) and has the node on that storage serve the registry.
 *
 * @throws ShadwError `STORAGE_LOCKED` while a node holds the storage; `INVALID_ARGUMENT` for a
 *   malformed example.json or a missing built module
 */
export async function publishExamples (storage: string, root: string = EXAMPLES_ROOT): Promise<PublishedExamples> {
  const examples = await readExamples(root)
  const keyPath = join(storage, EXAMPLE_KEY_FILE)
  const keys = await loadKeys(keyPath).catch(async (err: ShadwError) => {
    if (err.code !== 'KEYS_NOT_FOUND') throw err
    return await createKeys(keyPath)
  })
  const store = new Corestore(storage)
  try {
    await store.ready()
  } catch (err) {
    await store.close().catch(() => {})
    throw storageError(storage, err)
  }
  try {
    const registry = await Registry.create(store, keys.keyPair)
    const refs: PublishedExamples['refs'] = []
    try {
      for (const example of examples) {
        const published = (await registry.versions(example.name)).some(v => v.version === example.version)
        if (!published) await registry.publish(example.module, { name: example.name, version: example.version, abi: example.abi })
        refs.push({ example, ref: `${registry.key}/${example.name}@${example.version}` })
      }
      const follows = await RegistryFollows.open(store)
      await follows.add(registry.key)
      await follows.close()
    } finally {
      await registry.close()
    }
    return { publisher: keys.publicKey, refs }
  } finally {
    await store.close()
  }
}
