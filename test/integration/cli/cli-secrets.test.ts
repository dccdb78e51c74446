import '../../helpers/quiet-lit.ts'
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LocalAccount } from 'viem/accounts'
import { generatePrivateKey } from 'viem/accounts'
import { Drive } from '../../../src/core/drive/index.ts'
import { chooseHolders, dealKey, keyIdOf } from '../../../src/core/keys/index.ts'
import type { SuperNode } from '../../../src/super-node/super-node.ts'
import { cWasm } from '../../fixtures/wasm/fixtures.ts'
import { type EvmNode, HARDHAT_CHAIN, startEvmNode } from '../../helpers/evm.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'
import { testnet, testNode } from '../../helpers/testnet.ts'
import { kernel } from '../../helpers/fs-kernel.ts'
import { releases } from '../../helpers/key-releases.ts'
import { erc20Gate, keyDealer } from '../../helpers/keyed-calls.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))
const DOMAIN = 'app.shadw.test'
const SECRET = 'sk-live-0123456789abcdef'

function shadw (env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { timeout: 90_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

describe('shadw publish --secret and shadw invoke --grant: condition-gated keys from the CLI', () => {
  let evm: EvmNode
  beforeAll(async () => { evm = await startEvmNode() }, 120_000)
  afterAll(async () => { await evm?.stop() })

  it('a secret split among super nodes reaches the function for a token holder only; a gated drive mounts through its key grant', async () => {
    const holder = evm.accounts[1] as LocalAccount
    const { access } = await erc20Gate(evm, holder)
    const net = await testnet()
    const bootstrap = net.bootstrap.map(b => `${b.host}:${b.port}`)
    const B = bootstrap.join(',')
    const rpc = { [HARDHAT_CHAIN]: [evm.url] }
    const supers: SuperNode[] = []
    for (let i = 0; i < 3; i++) supers.push(await startSuperNode({ workers: 0, bootstrap, keyHolder: true, rpc }))

    const dir = await tempDir()
    const env = { XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config'), SHADW_DEBUG: '' }
    expect((await shadw(env, 'keys', 'create')).code).toBe(0)
    const storage = join(dir, 'executor')
    const wasm = join(dir, 'print-env.wasm')
    await writeFile(wasm, cWasm('print-env'))
    const reader = join(dir, 'read.wasm')
    await writeFile(reader, cWasm('fs-read-kernel'))
    const gate = join(dir, 'gate.json')
    await writeFile(gate, JSON.stringify(access))
    const secretFile = join(dir, 'api-key.txt')
    await writeFile(secretFile, SECRET + '\n')
    const base = ['publish', wasm, '--name', 'secret-env', '--version', '1.0.0', '--abi', 'wasi', '--access', gate, '--auth-domain', DOMAIN, '--storage', storage, '--bootstrap', B]

    // bad flags are refused with their own codes, before any holder is sought
    const refused = async (args: string[]): Promise<string> => {
      const r = await shadw(env, ...base, ...args)
      expect(r.code).toBe(1)
      return r.stderr
    }
    expect(await refused(['--secret', `API_KEY=${secretFile}`, '--key-holders', '3', '--threshold', '4'])).toMatch(/^shadw: KEY_SPLIT_INVALID: --threshold must be 2\.\.3/)
    expect(await refused(['--secret', `API_KEY=${secretFile}`, '--threshold', '0'])).toMatch(/^shadw: KEY_SPLIT_INVALID/)
    expect(await refused(['--secret', `api-key=${secretFile}`])).toMatch(/^shadw: SECRET_INVALID: --secret name "api-key"/)
    expect(await refused(['--secret', `API_KEY=${join(dir, 'missing.txt')}`])).toMatch(/^shadw: SECRET_INVALID: --secret API_KEY: cannot read .*ENOENT/)
    expect(await refused(['--secret', 'API_KEY'])).toMatch(/^shadw: SECRET_INVALID: --secret "API_KEY" is not NAME=FILE/)
    // four asked for, three exist: the error says how many answered
    expect(await refused(['--secret', `API_KEY=${secretFile}`, '--key-holders', '4', '--threshold', '2', '--wait', '5000'])).toMatch(/^shadw: NOT_ENOUGH_HOLDERS: 3 key holder\(s\) answered within 5000 ms, 4 asked for/m)

    const published = await shadw(env, ...base, '--secret', `API_KEY=${secretFile}`, '--key-holders', '3', '--threshold', '2', '--json')
    expect(published.stderr).toContain('secret API_KEY: split 2 of 3')
    expect(published.code).toBe(0)
    const doc = JSON.parse(published.stdout) as { ref: string, manifest: { secrets: Array<{ name: string, holders: string[], executors: string[] }> } }
    const ref = doc.ref
    expect(doc.manifest.secrets.map(s => s.name)).toEqual(['API_KEY'])
    expect(doc.manifest.secrets[0]?.holders).toEqual(supers.map(s => s.info.publicKey).sort())
    expect(published.stdout).not.toContain(SECRET)
    const readRef = JSON.parse((await shadw(env, 'publish', reader, '--name', 'read-any', '--version', '1.0.0', '--abi', 'wasi', '--access', gate, '--auth-domain', DOMAIN, '--storage', storage, '--json')).stdout).ref as string

    // the super node on the publish storage: the executor the secret was dealt to by default
    const executor = await startSuperNode({ storage, workers: 1, bootstrap, rpc })
    expect(doc.manifest.secrets[0]?.executors).toEqual([executor.info.publicKey])

    const holderKey = join(dir, 'holder.key')
    await writeFile(holderKey, HOLDER_KEY + '\n', { mode: 0o600 })
    const strangerKey = join(dir, 'stranger.key')
    await writeFile(strangerKey, generatePrivateKey() + '\n', { mode: 0o600 })
    const input = join(dir, 'input.txt')
    await writeFile(input, 'API_KEY\n')
    const authFile = join(dir, 'auth.json')
    expect((await shadw(env, 'auth', 'sign', '--fn', ref, '--domain', DOMAIN, '--key', holderKey, '--call', '--out', authFile)).code).toBe(0)
    // the executor's first keyed call, with the default deadline (10 s, connecting included)
    const ok = await shadw(env, 'invoke', ref, '--input', input, '--auth', authFile, '--bootstrap', B, '--json')
    expect(ok.stderr).toBe('')
    const result = JSON.parse(ok.stdout) as { output: string, receipts: Array<{ nonce: string }> }
    expect(result.output).toBe(`API_KEY=${SECRET}\n`)
    const call = result.receipts[0]?.nonce
    const released = (await Promise.all(supers.map(releases))).flat()
    expect(released.length).toBeGreaterThanOrEqual(2)
    for (const r of released) expect({ call: r.call, requester: r.requester, tenant: r.tenant }).toEqual({ call, requester: executor.info.publicKey, tenant: holder.address })

    // a caller without the token: a typed refusal, and no holder released anything
    expect((await shadw(env, 'auth', 'sign', '--fn', ref, '--domain', DOMAIN, '--key', strangerKey, '--call', '--out', authFile)).code).toBe(0)
    const denied = await shadw(env, 'invoke', ref, '--input', input, '--auth', authFile, '--bootstrap', B, '--deadline', '60000')
    expect(denied.code).toBe(1)
    expect(denied.stderr).toMatch(/ACCESS_DENIED/)
    expect(denied.stdout).not.toContain(SECRET)
    expect((await Promise.all(supers.map(releases))).flat()).toHaveLength(released.length)

    // a private drive whose key is dealt to the same holders: the invoker has only its grant
    const store = await testNode(net)
    const priv = await Drive.create(store, { encrypt: true })
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 131 + 4) % 256)
    const version = (await priv.drive.put('/blob', [bytes])).version
    const candidates = supers.map(s => s.info.publicKey)
    const { keys } = await keyDealer(net, candidates, 'the drive owner reaches the key holders')
    const driveFn = { publisher: priv.drive.key, name: 'drive-key', version: '1' }
    const driveHolders = chooseHolders(keyIdOf(keys.publicKey, driveFn), candidates, 3)
    const layout = await dealKey(keys, { key: priv.encryptionKey as Uint8Array, fn: driveFn, access, domains: [DOMAIN], holders: driveHolders, threshold: 2 })
    keys.stop()
    const grantFile = join(dir, 'grant.json')
    await writeFile(grantFile, JSON.stringify({ type: 'shadw-drive-key-grant', drive: priv.drive.key, fn: `${priv.drive.key}/drive-key@1`, domain: DOMAIN, keyId: layout.keyId, dealer: layout.dealer, threshold: 2, holders: layout.holders, epoch: 0 }))
    const mount = `${priv.drive.key}@${version}::/data`

    // without --auth the grant is refused before any network
    const noAuth = await shadw(env, 'invoke', readRef, '--mount', mount, '--grant', grantFile, '--bootstrap', B)
    expect(noAuth.stderr).toMatch(/^shadw: INVALID_ARGUMENT: --grant needs --auth/)
    // an auth that does not unlock the drive's key: its holders refuse the executor
    expect((await shadw(env, 'auth', 'sign', '--fn', readRef, '--domain', DOMAIN, '--key', holderKey, '--call', '--out', authFile)).code).toBe(0)
    const locked = await shadw(env, 'invoke', readRef, '--mount', mount, '--grant', grantFile, '--auth', authFile, '--bootstrap', B, '--deadline', '60000')
    expect(locked.code).toBe(1)
    expect(locked.stderr).toMatch(/KEY_SHARES_SHORT/)
    expect((await shadw(env, 'auth', 'sign', '--fn', readRef, '--domain', DOMAIN, '--key', holderKey, '--unlock', grantFile, '--out', authFile)).code).toBe(0)
    const read = await shadw(env, 'invoke', readRef, '--mount', mount, '--grant', grantFile, '--auth', authFile, '--bootstrap', B, '--deadline', '60000', '--json')
    expect(read.stderr).toBe('')
    const got = JSON.parse(read.stdout) as { output: string, receipts: Array<{ nonce: string, mounts: unknown }> }
    expect(got.output).toBe(kernel(bytes))
    expect(got.receipts[0]?.mounts).toEqual([{ drive: priv.drive.key, version }])
    const driveReleases = (await Promise.all(supers.map(releases))).flat().filter(r => r.call === got.receipts[0]?.nonce)
    expect(driveReleases.length).toBeGreaterThanOrEqual(2)
    // the caller never had the drive's key: its drive key store is empty
    expect(await readFile(join(dir, 'config', 'shadw', 'drives', `${priv.drive.key}.json`), 'utf8').catch(() => null)).toBeNull()
    await priv.drive.close()
  }, 420_000)
})

/** Hardhat's second default account (index 1), the `holder` above. */
const HOLDER_KEY = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'
