import { execFile } from 'node:child_process'
import { mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ShadwNode } from '../../../src/core/node/shadw-node.ts'
import { createNodeExecutor } from '../../../src/super-node/executor/index.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { FunctionLoader } from '../../../src/core/registry/index.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))
const RAW_UPPER = fileURLToPath(new URL('../../fixtures/wasm/c/raw-upper.wasm', import.meta.url))
const HELLO = fileURLToPath(new URL('../../fixtures/wasm/c/hello.wasm', import.meta.url))

interface Result { code: number, stdout: string, stderr: string }

/** A shadw CLI whose config and data directories are fresh temporary ones. */
async function cli (): Promise<{ run: (...args: string[]) => Promise<Result>, config: string, data: string }> {
  const root = await tempDir('shadw-cli-registry-')
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

describe('shadw keys', () => {
  it('creates a key pair in a 0600 file under the config dir, shows the public key, hides the secret unless asked', async () => {
    const { run, config } = await cli()
    const missing = await run('keys')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/^shadw: KEYS_NOT_FOUND: no publisher keys at .*publisher-key\.json/)

    const created = await run('keys', 'create')
    expect(created.code).toBe(0)
    const publicKey = /public key: ([0-9a-f]{64})/.exec(created.stdout)?.[1]
    expect(publicKey).toMatch(/^[0-9a-f]{64}$/)
    const file = join(config, 'shadw', 'publisher-key.json')
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await stat(join(config, 'shadw'))).mode & 0o777).toBe(0o700)
    const { readFile } = await import('node:fs/promises')
    const stored = JSON.parse(await readFile(file, 'utf8')) as { publicKey: string, secretKey: string }
    expect(stored.publicKey).toBe(publicKey)
    expect(created.stdout).not.toContain(stored.secretKey)
    expect(created.stdout).not.toContain(stored.secretKey.slice(0, 64))

    const shown = await run('keys', 'show')
    expect(shown.code).toBe(0)
    expect(shown.stdout).toContain(`public key: ${publicKey as string}`)
    expect(shown.stdout).not.toContain(stored.secretKey.slice(0, 64))
    const secret = await run('keys', '--show-secret', '--json')
    expect(JSON.parse(secret.stdout)).toEqual({ publicKey, path: file, secretKey: stored.secretKey })

    const again = await run('keys', 'create')
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^shadw: KEYS_EXIST: /)
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(stored)
  })

  it('refuses conditions Lit\'s validator rejects at publish time, with its reason, and publishes nothing', async () => {
    const { run, data } = await cli()
    await run('keys', 'create')
    await mkdir(data, { recursive: true })
    const access = join(data, 'bad-access.json')
    await writeFile(access, JSON.stringify([{ conditionType: 'evmBasic', chain: 'ethereum', returnValueTest: {} }]))
    const bad = await run('publish', RAW_UPPER, '--name', 'gated', '--version', '1.0.0', '--access', access)
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/^shadw: ACCESS_CONDITIONS_INVALID: invalid access control conditions: .*must have required property 'contractAddress'/)
    expect((await run('list')).stdout).not.toContain('gated')
  })

  it('signs --auth-domain (repeatable) into the manifest, and refuses bad domains or domains without --access, publishing nothing', async () => {
    const { run, data } = await cli()
    await run('keys', 'create')
    await mkdir(data, { recursive: true })
    const access = join(data, 'access.json')
    await writeFile(access, JSON.stringify([{ conditionType: 'evmBasic', contractAddress: '', standardContractType: '', chain: 'ethereum', method: '', parameters: [':userAddress'], returnValueTest: { comparator: '=', value: '0xbfBdb657B9760B55C5096E93985A97358e741D4b' } }]))
    const refusals: Array<[string[], string]> = [
      [['--access', access, '--auth-domain', 'https://app.example'], 'shadw: INVALID_ARGUMENT: --auth-domain "https://app.example" is not a lowercase host[:port]'],
      [['--access', access, '--auth-domain', 'App.example'], 'shadw: INVALID_ARGUMENT: --auth-domain "App.example" is not'],
      [['--auth-domain', 'app.example'], 'shadw: INVALID_ARGUMENT: --auth-domain needs --access'],
      [['--access', access, ...Array.from({ length: 17 }, (_, i) => ['--auth-domain', `app${i}.example`]).flat()], 'shadw: INVALID_ARGUMENT: authDomains must be an array of 1..16 domains']
    ]
    for (const [flags, message] of refusals) {
      const bad = await run('publish', RAW_UPPER, '--name', 'gated', '--version', '1.0.0', ...flags)
      expect([bad.code, bad.stderr.slice(0, message.length)]).toEqual([1, message])
    }
    expect((await run('list')).stdout).not.toContain('gated')

    const ok = await run('publish', RAW_UPPER, '--name', 'gated', '--version', '1.0.0', '--access', access, '--auth-domain', 'app.example', '--auth-domain', 'localhost:5173', '--json')
    expect(ok.code).toBe(0)
    expect(JSON.parse(ok.stdout).manifest.authDomains).toEqual(['app.example', 'localhost:5173'])
    const text = await run('inspect', 'gated@1.0.0')
    expect(text.stdout).toContain('  auth for:  app.example, localhost:5173\n')
  })

  it('refuses a key file readable by other users', async () => {
    const { run, config } = await cli()
    expect((await run('keys', 'create')).code).toBe(0)
    const { chmod } = await import('node:fs/promises')
    await chmod(join(config, 'shadw', 'publisher-key.json'), 0o644)
    const r = await run('keys')
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^shadw: INVALID_ARGUMENT: .* is readable by other users \(mode 644\)/)
  })
})

describe('shadw publish, list, inspect, yank', () => {
  it('publishes into a super node storage, lists, inspects verified manifests, yanks; the super node serves it to a peer that verifies and runs it', async () => {
    const paths = await cli()
    const { run, data } = paths
    const storage = join(data, 'shadw', 'super-node')
    expect((await run('publish', RAW_UPPER, '--name', 'upper', '--version', '1.0.0')).stderr).toMatch(/^shadw: KEYS_NOT_FOUND/)
    const publicKey = /public key: ([0-9a-f]{64})/.exec((await run('keys', 'create')).stdout)?.[1] as string

    const p1 = await run('publish', RAW_UPPER, '--name', 'upper', '--version', '1.0.0')
    expect(p1.stderr).toBe('')
    expect(p1.code).toBe(0)
    expect(p1.stdout.split('\n')[0]).toBe(`published ${publicKey}/upper@1.0.0`)
    expect(p1.stdout).toContain('  abi:       raw')

    const access = join(data, 'access.json')
    const conditions = [{ conditionType: 'evmBasic', contractAddress: '', standardContractType: '', chain: 'ethereum', method: '', parameters: [':userAddress'], returnValueTest: { comparator: '=', value: '0x50e2dac5e78b5905cb09495547452cee64426db2' } }]
    await writeFile(access, JSON.stringify(conditions))
    const p2 = await run('publish', RAW_UPPER, '--name', 'upper', '--version', '1.1.0', '--access', access, '--fuel', '2000000', '--memory', '32', '--deadline', '1000', '--json')
    expect(p2.code).toBe(0)
    const published = JSON.parse(p2.stdout) as { ref: string, manifest: { limits: Record<string, number>, access: unknown[], blob: { start: number } } }
    expect(published.ref).toBe(`${publicKey}/upper@1.1.0`)
    expect(published.manifest.limits).toMatchObject({ fuel: 2_000_000, memoryPages: 32, deadlineMs: 1000 })
    expect(published.manifest.access).toEqual(conditions)
    expect(published.manifest.blob.start).toBe(0) // same bytes as 1.0.0: the blob is reused
    expect((await run('publish', HELLO, '--name', 'hello', '--version', '0.1.0')).code).toBe(0)

    const dup = await run('publish', RAW_UPPER, '--name', 'upper', '--version', '1.1.0')
    expect(dup.code).toBe(1)
    expect(dup.stderr).toBe(`shadw: VERSION_EXISTS: ${publicKey}/upper@1.1.0 is already published; versions are immutable\n`)
    const badAbi = await run('publish', RAW_UPPER, '--name', 'upper', '--version', '1.2.0', '--abi', 'wasi')
    expect(badAbi.stderr).toMatch(/^shadw: ABI_MISMATCH: /)

    const list = await run('list', '--json')
    expect(JSON.parse(list.stdout)).toEqual({
      publisher: publicKey,
      functions: [
        { name: 'hello', versions: [{ version: '0.1.0', yanked: false }] },
        { name: 'upper', versions: [{ version: '1.1.0', yanked: false }, { version: '1.0.0', yanked: false }] }
      ]
    })
    const listText = await run('list', publicKey)
    expect(listText.stdout).toBe(`publisher ${publicKey}\n  hello  0.1.0\n  upper  1.1.0, 1.0.0\n`)

    const inspect = JSON.parse((await run('inspect', 'upper@^1', '--json')).stdout) as { ref: string, moduleVerified: boolean }
    expect(inspect.ref).toBe(`${publicKey}/upper@1.1.0`)
    expect(inspect.moduleVerified).toBe(true)
    const inspectText = await run('inspect', `${publicKey}/hello`)
    expect(inspectText.stdout.split('\n').slice(0, 2)).toEqual([
      `${publicKey}/hello@0.1.0`,
      '  verified:  signature, publisher = registry, limits within this node\'s ceilings, not yanked, module bytes'
    ])
    expect((await run('inspect', 'upper@^2')).stderr).toBe(`shadw: VERSION_NOT_FOUND: no version matches ${publicKey}/upper@^2\n`)
    expect((await run('inspect', 'Upper@1')).stderr).toMatch(/^shadw: INVALID_FUNCTION_REF: /)

    const { config } = paths
    await writeFile(join(config, 'shadw', 'aliases.json'), JSON.stringify({ up: `${publicKey}/upper` }))
    expect(JSON.parse((await run('inspect', 'up@~1.0', '--json')).stdout).ref).toBe(`${publicKey}/upper@1.0.0`)

    const yank = await run('yank', 'upper@1.1.0', '--reason', 'wrong limits')
    expect(yank.stdout).toBe(`yanked ${publicKey}/upper@1.1.0 (wrong limits)\n`)
    expect((await run('list')).stdout).toContain('  upper  1.1.0 (yanked), 1.0.0\n')
    expect(JSON.parse((await run('inspect', 'upper@^1', '--json')).stdout).ref).toBe(`${publicKey}/upper@1.0.0`)
    expect((await run('inspect', 'upper@1.1.0')).stderr).toBe(`shadw: FUNCTION_YANKED: ${publicKey}/upper@1.1.0 was yanked by its publisher: wrong limits\n`)
    expect((await run('yank', 'upper@^1')).stderr).toMatch(/^shadw: INVALID_FUNCTION_REF: yank needs an exact version/)

    const other = 'e'.repeat(64)
    expect((await run('follow', other)).stdout).toBe(`following ${other}; the super node on ${storage} serves it from its next start\n`)
    expect((await run('follow')).stdout.split('\n').filter(Boolean).sort()).toEqual([publicKey, other].sort())
    expect((await run('follow', 'nope')).stderr).toMatch(/^shadw: INVALID_LOG_KEY: /)

    // the super node started on that storage serves the registry; publishing meanwhile is refused
    const superNode = await startSuperNode({ storage })
    const locked = await run('publish', RAW_UPPER, '--name', 'upper', '--version', '9.0.0')
    expect(locked.code).toBe(1)
    expect(locked.stderr).toBe(`shadw: STORAGE_LOCKED: storage is in use by another context: ${storage}\nhint: a running \`shadw start\` holds this storage: stop it (Ctrl-C), run this command, start it again; or pass --storage DIR\n`)

    const dht = new HyperDHT({ bootstrap: parseBootstrap(superNode.info.bootstrap), host: '127.0.0.1' })
    const peer = new ShadwNode({ swarm: new Hyperswarm({ dht }), store: new Corestore(RAM.reusable()), tier: 'storm' })
    onTestFinished(async () => { await peer.stop(); await dht.destroy() })
    await peer.start()
    const loader = new FunctionLoader({ host: peer })
    onTestFinished(async () => { await loader.close() })
    const fn = await loader.load(`${publicKey}/upper@^1`)
    expect(fn.manifest.version).toBe('1.0.0')
    const executor = createNodeExecutor({ size: 1 })
    onTestFinished(async () => { await executor.close() })
    const out = await executor.execute({ module: fn.module, abi: fn.manifest.abi, input: b4a.from('shadw'), limits: fn.manifest.limits })
    expect(b4a.toString(out.output)).toBe('SHADW')
  }, 180_000) // about thirty CLI processes and a super node: slow on a loaded 2-core machine
})
