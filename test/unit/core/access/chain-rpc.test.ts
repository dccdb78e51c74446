import '../../../helpers/quiet-lit.ts'
import { describe, expect, it } from 'vitest'
import { ChainReader, chainIdOf, parseRpcOption } from '../../../../src/core/access/index.ts'
import type { ShadwError } from '../../../../src/core/errors.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { return (err as ShadwError).code }
  return 'PASSED'
}

describe('--rpc CHAIN=URL[,URL…]', () => {
  it('parses repeatable options into URLs per Lit chain name', () => {
    expect(parseRpcOption(['ethereum=https://a.example,https://b.example', 'base=http://127.0.0.1:8545', 'ethereum=https://c.example'])).toEqual({
      ethereum: ['https://a.example', 'https://b.example', 'https://c.example'],
      base: ['http://127.0.0.1:8545']
    })
    expect(chainIdOf('ethereum')).toBe(1)
    expect(chainIdOf('sepolia')).toBe(11155111)
    expect(chainIdOf('solana')).toBeUndefined()
  })

  it('refuses unknown chains, missing URLs and non-http URLs with INVALID_ARGUMENT', () => {
    for (const bad of ['nochain=http://x.example', 'ethereum=', '=http://x.example', 'ethereum', 'ethereum=ftp://x.example', 'ethereum=not a url']) {
      expect(code(() => parseRpcOption([bad])), bad).toBe('INVALID_ARGUMENT')
    }
    expect(code(() => new ChainReader({ endpoints: { nochain: ['http://127.0.0.1:1'] } }))).toBe('INVALID_ARGUMENT')
  })

  it('takes Solana endpoints under Lit\'s Solana chain names, beside the EVM ones', () => {
    expect(parseRpcOption(['solana=http://127.0.0.1:8899,http://127.0.0.1:8900', 'solanaDevnet=http://127.0.0.1:8901'])).toEqual({
      solana: ['http://127.0.0.1:8899', 'http://127.0.0.1:8900'],
      solanaDevnet: ['http://127.0.0.1:8901']
    })
    const reader = new ChainReader({ endpoints: { solana: ['http://127.0.0.1:8899'], ethereum: ['http://127.0.0.1:8545'] } })
    expect(reader.configured.sort()).toEqual(['ethereum', 'solana'])
    expect(reader.has('solanaTestnet')).toBe(false)
    expect(code(() => parseRpcOption(['solanaMainnet=http://127.0.0.1:8899']))).toBe('INVALID_ARGUMENT')
  })

  it('fails a read on a Solana cluster without endpoints with SOLANA_UNCONFIGURED', async () => {
    const reader = new ChainReader({ endpoints: { ethereum: ['http://127.0.0.1:1'] } })
    await expect(reader.head('solana', 'tenant')).rejects.toMatchObject({ code: 'SOLANA_UNCONFIGURED' })
  })

  it('fails a read on a chain without endpoints with CHAIN_UNCONFIGURED', async () => {
    const reader = new ChainReader({ endpoints: { ethereum: ['http://127.0.0.1:1'] } })
    expect(reader.has('base')).toBe(false)
    await expect(reader.head('base', '0xabc')).rejects.toMatchObject({ code: 'CHAIN_UNCONFIGURED' })
  })
})
