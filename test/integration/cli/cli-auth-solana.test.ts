import { execFile } from 'node:child_process'
import { readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { utils } from 'ethers'
import { describe, expect, it } from 'vitest'
import { ReplayGuard } from '../../../src/core/access/replay-guard.ts'
import { DERIVED_VIA, DERIVED_VIA_SOLANA, verifyAuth } from '../../../src/core/access/index.ts'
import { tempDir } from '../../helpers/super-node.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))
const FN = { publisher: 'ab'.repeat(32), name: 'hello', version: '1.0.0' }
const REF = `${FN.publisher}/${FN.name}@${FN.version}`
const DOMAIN = 'app.example:4190'
const ETH_KEY = '0x' + '11'.repeat(32)

function shadw (env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

async function setup (): Promise<{ dir: string, env: NodeJS.ProcessEnv }> {
  const dir = await tempDir()
  return { dir, env: { XDG_DATA_HOME: join(dir, 'data'), XDG_CONFIG_HOME: join(dir, 'config'), SHADW_DEBUG: '' } }
}

describe('shadw auth sign --chain solana', () => {
  it('writes a SIWS auth file that verifies for the key file\'s account, from a 0x-hex key and from a solana-keygen keypair file', async () => {
    const { dir, env } = await setup()
    const { publicKey, secretKey } = crypto.keyPair()
    const address = utils.base58.encode(publicKey)
    const hexKey = join(dir, 'sol.key')
    await writeFile(hexKey, '0x' + b4a.toString(secretKey, 'hex') + '\n', { mode: 0o600 })
    const jsonKey = join(dir, 'id.json')
    await writeFile(jsonKey, JSON.stringify([...secretKey]), { mode: 0o600 })
    for (const key of [hexKey, jsonKey]) {
      const out = join(dir, 'auth.json')
      const signed = await shadw(env, 'auth', 'sign', '--chain', 'solana', '--fn', REF, '--domain', DOMAIN, '--key', key, '--call', '--out', out)
      expect(signed.code, signed.stderr).toBe(0)
      expect(signed.stdout).toContain(address)
      const auth = JSON.parse(await readFile(out, 'utf8')) as { derivedVia: string, address: string }
      expect(auth.derivedVia).toBe(DERIVED_VIA_SOLANA)
      const ok = verifyAuth(auth, { domain: DOMAIN, fn: FN, replay: new ReplayGuard() })
      expect(ok.address).toBe(address)
      // bound to the function and the domain like a SIWE auth
      expect(() => verifyAuth(auth, { domain: 'other.example', fn: FN })).toThrow(/AUTH_WRONG_DOMAIN/)
      expect(() => verifyAuth(auth, { domain: DOMAIN, fn: { ...FN, version: '1.0.1' } })).toThrow(/AUTH_WRONG_FUNCTION/)
    }
  }, 60_000)

  it('without --key creates tenant-solana.key (0600) once and signs with it again', async () => {
    const { dir, env } = await setup()
    const first = await shadw(env, 'auth', 'sign', '--chain', 'solana', '--fn', REF, '--domain', DOMAIN, '--out', join(dir, 'a.json'))
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toContain('created a tenant key')
    const keyFile = join(dir, 'data', 'shadw', 'tenant-solana.key')
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600)
    const again = await shadw(env, 'auth', 'sign', '--chain', 'solana', '--fn', REF, '--domain', DOMAIN, '--out', join(dir, 'b.json'))
    expect(again.code, again.stderr).toBe(0)
    const a = JSON.parse(await readFile(join(dir, 'a.json'), 'utf8')) as { address: string }
    const b = JSON.parse(await readFile(join(dir, 'b.json'), 'utf8')) as { address: string }
    expect(b.address).toBe(a.address)
  }, 60_000)

  it('--chain both writes Lit\'s per-family map, each entry verifying for its own key', async () => {
    const { dir, env } = await setup()
    const { publicKey, secretKey } = crypto.keyPair()
    const ethKey = join(dir, 'eth.key')
    await writeFile(ethKey, ETH_KEY + '\n', { mode: 0o600 })
    const solKey = join(dir, 'sol.key')
    await writeFile(solKey, '0x' + b4a.toString(secretKey, 'hex'), { mode: 0o600 })
    const out = join(dir, 'auth.json')
    const signed = await shadw(env, 'auth', 'sign', '--chain', 'both', '--fn', REF, '--domain', DOMAIN, '--key', ethKey, '--solana-key', solKey, '--out', out)
    expect(signed.code, signed.stderr).toBe(0)
    const map = JSON.parse(await readFile(out, 'utf8')) as { ethereum: { derivedVia: string }, solana: { derivedVia: string } }
    expect(Object.keys(map).sort()).toEqual(['ethereum', 'solana'])
    expect(map.ethereum.derivedVia).toBe(DERIVED_VIA)
    expect(verifyAuth(map.ethereum, { domain: DOMAIN, fn: FN }).address.toLowerCase()).toBe(utils.computeAddress(ETH_KEY).toLowerCase())
    expect(verifyAuth(map.solana, { domain: DOMAIN, fn: FN }).address).toBe(utils.base58.encode(publicKey))
    // one call id cannot be read from a map
    const withCall = await shadw(env, 'auth', 'sign', '--chain', 'both', '--fn', REF, '--domain', DOMAIN, '--key', ethKey, '--solana-key', solKey, '--call', '--out', out)
    expect(withCall.code).not.toBe(0)
    expect(withCall.stderr).toMatch(/INVALID_ARGUMENT/)
  }, 60_000)

  it('refuses bad key files with a typed error and writes nothing', async () => {
    const { dir, env } = await setup()
    const { secretKey } = crypto.keyPair()
    const other = crypto.keyPair()
    const cases: Record<string, string> = {
      short: '0x' + b4a.toString(secretKey, 'hex').slice(0, 64),
      eth: ETH_KEY,
      json: JSON.stringify([...secretKey].slice(0, 32)),
      mismatched: '0x' + b4a.toString(b4a.concat([secretKey.subarray(0, 32), other.publicKey]), 'hex'),
      garbage: 'not a key'
    }
    for (const [name, text] of Object.entries(cases)) {
      const key = join(dir, name + '.key')
      await writeFile(key, text, { mode: 0o600 })
      const out = join(dir, name + '.json')
      const r = await shadw(env, 'auth', 'sign', '--chain', 'solana', '--fn', REF, '--domain', DOMAIN, '--key', key, '--out', out)
      expect(r.code, name).not.toBe(0)
      expect(r.stderr, name).toMatch(/INVALID_ARGUMENT/)
      await expect(stat(out), name).rejects.toThrow(/ENOENT/)
    }
    const missing = await shadw(env, 'auth', 'sign', '--chain', 'solana', '--fn', REF, '--domain', DOMAIN, '--key', join(dir, 'none.key'))
    expect(missing.stderr).toMatch(/INVALID_ARGUMENT/)
    const wrongChain = await shadw(env, 'auth', 'sign', '--chain', 'bitcoin', '--fn', REF, '--domain', DOMAIN)
    expect(wrongChain.stderr).toMatch(/INVALID_ARGUMENT/)
  }, 120_000)
})
