/**
 * The catalogue end to end: `shadw publish` with a description, README and example; a super
 * node serving that storage announces the registry; another super node on the same testnet
 * learns the function, refuses the tampered manifests beside it, lists it at /api/functions,
 * and `shadw search` / `shadw show` read it from there; its example runs through /fn.
 */
import { execFile } from 'node:child_process'
import { cp, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import { describe, expect, it } from 'vitest'
import type { CatalogueFunction, CataloguePage } from '../../../src/core/catalogue/index.ts'
import { decodeSignedManifest, encodeManifest, encodeSignedManifest, signManifest } from '../../../src/core/registry/index.ts'
import { loadKeys, keyFilePath } from '../../../src/super-node/keystore.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))
const RAW_UPPER = fileURLToPath(new URL('../../fixtures/wasm/c/raw-upper.wasm', import.meta.url))
const PRE_LAYOUT = fileURLToPath(new URL('../../fixtures/stored/pre-layout/', import.meta.url))
/** The publisher of the pre-layout fixture's `upper` (its publish.json). */
const PRE_LAYOUT_PUBLISHER_FILE = join(PRE_LAYOUT, 'publish.json')

interface Result { code: number, stdout: string, stderr: string }

async function cli (): Promise<{ run: (...args: string[]) => Promise<Result>, config: string, data: string }> {
  const root = await tempDir('shadw-cli-catalogue-')
  const config = join(root, 'config')
  const data = join(root, 'data')
  const env = { ...process.env, XDG_CONFIG_HOME: config, XDG_DATA_HOME: data, SHADW_DEBUG: '' }
  const run = (...args: string[]): Promise<Result> => new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { env }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : (err as { code?: number }).code ?? -1, stdout, stderr })
    })
  })
  return { run, config, data }
}

/**
 * Writes two manifests into the publisher's own registry that must never be indexed: one
 * whose description was changed after signing, one signed by another publisher.
 */
async function writeTampered (storage: string, configDir: string, upper: Uint8Array): Promise<void> {
  const keys = await loadKeys(keyFilePath(join(configDir, 'shadw')))
  const original = decodeSignedManifest(upper)
  const evil = signManifest({ ...original.manifest, name: 'evil', description: 'Upper-cases text' }, keys.keyPair.secretKey)
  const rewritten = encodeSignedManifest({ body: encodeManifest({ ...evil.manifest, description: 'Upper-cases text, and more' }), signature: evil.signature })
  const other = (await import('hypercore-crypto')).default.keyPair(new Uint8Array(32).fill(7))
  const stolen = encodeSignedManifest(signManifest({ ...original.manifest, name: 'stolen', publisher: Buffer.from(other.publicKey).toString('hex') }, other.secretKey))
  const store = new Corestore(storage)
  const bee = new Hyperbee<Uint8Array>(store.get({ keyPair: keys.keyPair } as unknown as { name: string }), { keyEncoding: 'utf-8', valueEncoding: 'binary' })
  await bee.ready()
  await bee.put('fn/evil/1.0.0', rewritten)
  await bee.put('fn/stolen/1.0.0', stolen)
  await bee.close()
  await store.close()
}

async function poll<T> (what: string, fn: () => Promise<T | null>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs
  for (let i = 0; Date.now() < until; i++) {
    const v = await fn()
    if (v !== null) return v
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('the function catalogue', () => {
  it('a super node learns a function another node publishes, lists it, refuses tampered manifests, and the CLI searches and shows it', async () => {
    const { run, config, data } = await cli()
    expect((await run('keys', 'create')).code).toBe(0)
    await mkdir(data, { recursive: true })
    const readme = join(data, 'README.md')
    await writeFile(readme, '# upper\n\nSend text, get it back in capitals.\n')
    const tooLong = await run('publish', RAW_UPPER, '--name', 'upper', '--version', '1.0.0', '--description', 'x'.repeat(281))
    expect([tooLong.code, tooLong.stderr]).toEqual([1, 'shadw: INVALID_ARGUMENT: description exceeds 280 characters\n'])
    const unpaired = await run('publish', RAW_UPPER, '--name', 'upper', '--version', '1.0.0', '--example-input', 'hello')
    expect([unpaired.code, unpaired.stderr]).toEqual([1, 'shadw: INVALID_ARGUMENT: --example-input and --example-output go together\n'])
    const published = await run('publish', RAW_UPPER, '--name', 'upper', '--version', '1.0.0', '--description', 'Upper-cases ASCII text',
      '--readme', readme, '--example-input', 'make me upper', '--example-output', 'MAKE ME UPPER', '--json')
    expect(published.stderr).toBe('')
    const { ref, manifest, signature } = JSON.parse(published.stdout) as { ref: string, signature: string, manifest: { publisher: string, description: string, examples: unknown[] } }
    expect([manifest.description, manifest.examples]).toEqual(['Upper-cases ASCII text', [{ input: 'make me upper', output: 'MAKE ME UPPER' }]])
    const publisher = manifest.publisher
    const storage = join(data, 'shadw', 'super-node')
    expect(signature).toMatch(/^[0-9a-f]{128}$/)
    {
      // the stored signed manifest, read back to build tampered copies of it
      const store = new Corestore(storage)
      const bee = new Hyperbee<Uint8Array>(store.get({ key: Buffer.from(publisher, 'hex') }), { keyEncoding: 'utf-8', valueEncoding: 'binary' })
      const upper = (await bee.get('fn/upper/1.0.0'))?.value as Uint8Array
      await bee.close(); await store.close()
      await writeTampered(storage, config, upper)
    }

    // the serving node's embedded DHT on loopback is the testnet both nodes are on
    const serving = await startSuperNode({ storage, workers: 1 })
    const learner = await startSuperNode({ bootstrap: serving.info.bootstrap, workers: 0 })
    const api = (path: string): URL => new URL(path, learner.info.appUrl)

    const page = await poll('the learner to list upper', async () => {
      const p = await (await fetch(api('/api/functions?q=upper'))).json() as CataloguePage
      return p.functions.length > 0 && p.functions[0]?.holders === 1 ? p : null
    })
    expect(page).toEqual({
      functions: [{
        ref,
        publisher,
        name: 'upper',
        version: '1.0.0',
        description: 'Upper-cases ASCII text',
        abi: 'raw',
        price: { base: 0, curve: [1_000_000, 1_000_000, 1_000_000, 1_000_000] },
        access: { public: true, conditions: 0, chains: [] },
        holders: 1,
        size: expect.any(Number) as number,
        examples: 1,
        readme: true,
        createdAt: expect.any(Number) as number
      }],
      next: null
    })
    // the tampered manifests were read and refused by both nodes; neither is listed anywhere
    expect(learner.catalogue?.stats()).toMatchObject({ publishers: 1, entries: 1, refused: 2 })
    expect(serving.catalogue?.stats()).toMatchObject({ publishers: 1, entries: 1, refused: 2 })
    const all = await (await fetch(api('/api/functions'))).json() as CataloguePage
    expect(all.functions.map(f => f.name)).toEqual(['upper'])
    const evil = await fetch(api(`/api/function?ref=${publisher}/evil`))
    expect([evil.status, (await evil.json() as { code: string }).code]).toEqual([400, 'SIGNATURE_INVALID'])
    const unknown = await fetch(api(`/api/function?ref=${'ee'.repeat(32)}/upper`))
    expect([unknown.status, (await unknown.json() as { code: string }).code]).toEqual([404, 'FUNCTION_NOT_FOUND'])
    // other methods and bad queries
    expect((await fetch(api('/api/functions'), { method: 'POST', body: 'x' })).status).toBe(405)
    for (const bad of ['limit=0', 'limit=101', 'limit=ten', `q=${'x'.repeat(101)}`]) {
      const res = await fetch(api(`/api/functions?${bad}`))
      expect([bad, res.status, (await res.json() as { code: string }).code]).toEqual([bad, 400, 'INVALID_ARGUMENT'])
    }
    const full = await (await fetch(api(`/api/function?ref=${publisher}/upper@^1`))).json() as CatalogueFunction
    expect([full.entry.ref, full.manifest.readme, full.versions, full.signature]).toEqual([ref, '# upper\n\nSend text, get it back in capitals.\n', [{ version: '1.0.0', yanked: false }], signature])

    // the CLI against the running learner
    const node = learner.info.appUrl
    const search = await run('search', 'ascii', '--node', node)
    expect(search.stdout).toBe(`upper@1.0.0  Upper-cases ASCII text\n  ${ref}\n  raw · executor's price · public · 1 executor(s)\n`)
    expect(JSON.parse((await run('search', '--node', node, '--json')).stdout)).toEqual(all)
    expect((await run('search', 'nothing-like-it', '--node', node)).stdout).toBe('no function matches "nothing-like-it"\n')
    const show = await run('show', `${publisher}/upper`, '--node', node)
    expect(show.code).toBe(0)
    expect(show.stdout).toContain('  example 1: "make me upper" -> "MAKE ME UPPER"\n')
    expect(show.stdout).toContain(`  try it:    printf %s 'make me upper' | shadw invoke ${ref} --input -\n`)
    expect(show.stdout).toContain('\n# upper\n\nSend text, get it back in capitals.\n')
    expect(JSON.parse((await run('show', `${publisher}/upper@1.0.0`, '--node', node, '--json')).stdout)).toEqual(full)
    const missing = await run('show', `${'ee'.repeat(32)}/upper`, '--node', node)
    expect([missing.code, missing.stderr]).toEqual([1, `shadw: FUNCTION_NOT_FOUND: not in this node's catalogue: ${'ee'.repeat(32)}/upper@*\n`])
    // a mistyped name of a publisher the catalogue has is answered with the names it has
    const typo = await run('show', `${publisher}/uper`, '--node', node)
    expect([typo.code, typo.stderr]).toEqual([1, `shadw: FUNCTION_NOT_FOUND: no function "uper" of ${publisher} on the swarm; did you mean upper? (from the catalogue of ${node}; shadw search ${publisher.slice(0, 16)} lists them)\n`])
    const down = await run('search', '--node', 'http://127.0.0.1:9/')
    expect([down.code, down.stderr.split(';')[0]]).toEqual([1, 'shadw: NODE_UNREACHABLE: cannot reach the node at http://127.0.0.1:9/'])
    for (const cmd of ['search', 'show']) {
      const help = await run(cmd, '--help')
      expect([cmd, help.code, help.stdout.startsWith(`usage: shadw ${cmd} `)]).toEqual([cmd, 0, true])
    }

    // the example, tried as the Functions view does: through the learner's /fn gateway
    const tried = await fetch(api(`/fn/${ref}`), { method: 'POST', body: 'make me upper', headers: { 'shadw-deadline': '30000' } })
    expect([tried.status, await tried.text()]).toEqual([200, 'MAKE ME UPPER'])
  }, 300_000)

  it('lists a function whose manifest predates the documentation fields, from storage written before them', async () => {
    const storage = join(await tempDir('shadw-catalogue-stored-'), 'storage')
    await cp(join(PRE_LAYOUT, 'storage'), storage, { recursive: true })
    const { readFile } = await import('node:fs/promises')
    const { ref } = JSON.parse(await readFile(PRE_LAYOUT_PUBLISHER_FILE, 'utf8')) as { ref: string }
    const sn = await startSuperNode({ storage, workers: 1 })
    const page = await poll('the stored function', async () => {
      const p = await (await fetch(new URL('/api/functions', sn.info.appUrl))).json() as CataloguePage
      return p.functions.length > 0 ? p : null
    })
    expect(page.functions.map(f => [f.ref, f.description, f.examples, f.readme, f.holders])).toEqual([[ref, undefined, 0, false, 1]])
    expect(sn.catalogue?.stats().refused).toBe(0)
  }, 60_000)
})
