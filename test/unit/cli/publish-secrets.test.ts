/**
 * The secret flags of `shadw publish` (src/cli/publish-secrets.ts), checked before any
 * network: each bad flag has its own code, and a secret's file is read as the function will
 * see it.
 */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { readSecretFlags, secretDealerKeyPair } from '../../../src/cli/publish-secrets.ts'

describe('shadw publish --secret flags', () => {
  it('reads NAME=FILE without its trailing newline, with the split asked for, and refuses each bad flag with its code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shadw-secret-'))
    const ok = join(dir, 'ok.txt')
    await writeFile(ok, 'sk-live-0123456789abcdef\r\n')
    const short = join(dir, 'short.txt')
    await writeFile(short, 'too short\n')
    const long = join(dir, 'long.txt')
    await writeFile(long, 'x'.repeat(65))

    expect(await readSecretFlags({})).toBeNull()
    const plan = await readSecretFlags({ secret: [`API_KEY=${ok}`], 'key-holders': '5', threshold: '3', executors: `${'AB'.repeat(32)},${'cd'.repeat(32)}` })
    expect(plan?.secrets.map(s => [s.name, b4a.toString(s.value)])).toEqual([['API_KEY', 'sk-live-0123456789abcdef']])
    expect([plan?.holders, plan?.threshold, plan?.executors]).toEqual([5, 3, ['ab'.repeat(32), 'cd'.repeat(32)]])
    expect((await readSecretFlags({ secret: [`API_KEY=${ok}`] }))?.executors).toBeNull()

    const code = async (v: Parameters<typeof readSecretFlags>[0]): Promise<string> => await readSecretFlags(v).then(() => 'OK', (err: { code: string }) => err.code)
    expect(await code({ secret: [`API_KEY=${ok}`], 'key-holders': '3', threshold: '4' })).toBe('KEY_SPLIT_INVALID')
    expect(await code({ secret: [`API_KEY=${ok}`], threshold: '1' })).toBe('KEY_SPLIT_INVALID')
    expect(await code({ secret: [`API_KEY=${ok}`], threshold: '-1' })).toBe('KEY_SPLIT_INVALID')
    expect(await code({ secret: [`API_KEY=${ok}`], 'key-holders': '33', threshold: '2' })).toBe('KEY_SPLIT_INVALID')
    expect(await code({ secret: [`api_key=${ok}`] })).toBe('SECRET_INVALID')
    expect(await code({ secret: ['API_KEY='] })).toBe('SECRET_INVALID')
    expect(await code({ secret: [`API_KEY=${ok}`, `API_KEY=${ok}`] })).toBe('SECRET_INVALID')
    expect(await code({ secret: [`API_KEY=${join(dir, 'missing')}`] })).toBe('SECRET_INVALID')
    expect(await code({ secret: [`API_KEY=${short}`] })).toBe('SECRET_INVALID')
    expect(await code({ secret: [`API_KEY=${long}`] })).toBe('SECRET_INVALID')
    expect(await code({ secret: [`API_KEY=${ok}`], executors: 'not-a-key' })).toBe('INVALID_ARGUMENT')
    expect(await code({ threshold: '2' })).toBe('INVALID_ARGUMENT')
  })

  it('gives each secret of a function a dealer of its own, the same every time', () => {
    const publisher = b4a.alloc(64, 7)
    const fn = { publisher: 'ab'.repeat(32), name: 'app', version: '1.0.0' }
    const a = b4a.toString(secretDealerKeyPair(publisher, fn, 'A').publicKey, 'hex')
    expect(b4a.toString(secretDealerKeyPair(publisher, fn, 'A').publicKey, 'hex')).toBe(a)
    expect(b4a.toString(secretDealerKeyPair(publisher, fn, 'B').publicKey, 'hex')).not.toBe(a)
    expect(b4a.toString(secretDealerKeyPair(b4a.alloc(64, 8), fn, 'A').publicKey, 'hex')).not.toBe(a)
  })
})
