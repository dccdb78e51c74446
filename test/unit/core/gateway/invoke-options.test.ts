import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { checkInvokeOptions, FN_REQUEST_HEADERS, INVOKE_OPTION_HEADERS, invokeOptionHeaders, parseInvokeHeaders, type WireInvokeOptions } from '../../../../src/core/gateway/index.ts'
import { MAX_AUTH_CHARS } from '../../../../src/core/invoke/index.ts'

function codeOf (fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    if (err instanceof ShadwError) return err.code
    throw err
  }
  throw new Error('expected a typed error')
}

/** Every option the headers carry, with a value unlike its default. */
const ALL: WireInvokeOptions = {
  redundancy: 3,
  quorum: 2,
  deadline: 45_000,
  auth: { sig: '0xab', signedMessage: 'héllo ✓', address: '0x01' },
  maxCharge: 1234,
  audit: 0.25,
  blocks: { sepolia: 7_654_321n, base: 0n }
}

describe('invocation options across the gateway and the bridge', () => {
  it('lists one header per option, in the order the CORS preflight answers them', () => {
    expect(INVOKE_OPTION_HEADERS).toEqual(['shadw-redundancy', 'shadw-quorum', 'shadw-deadline', 'shadw-auth', 'shadw-max-charge', 'shadw-audit', 'shadw-blocks'])
    expect(FN_REQUEST_HEADERS).toEqual(['content-type', 'accept', ...INVOKE_OPTION_HEADERS])
  })

  it('writes every option as the header text the gateway has always read, and reads it back to the same options', () => {
    const headers = invokeOptionHeaders(ALL)
    expect(headers).toEqual({
      'shadw-redundancy': '3',
      'shadw-quorum': '2',
      'shadw-deadline': '45000',
      // Latin-1 header values: non-ASCII characters escaped in the JSON
      'shadw-auth': '{"sig":"0xab","signedMessage":"h\\u00e9llo \\u2713","address":"0x01"}',
      'shadw-max-charge': '1234',
      'shadw-audit': '0.250000',
      'shadw-blocks': 'sepolia=7654321,base=0'
    })
    expect(parseInvokeHeaders(new Headers(headers))).toEqual(ALL)
    // what a page posts over the bridge is checked to the same options
    expect(checkInvokeOptions({ ref: 'ignored', input: new Uint8Array(1), ...ALL })).toEqual(ALL)
  })

  it('audit true is a share of 1, false sends nothing; a nonce and an abort signal never become headers', () => {
    expect(invokeOptionHeaders({ audit: true })).toEqual({ 'shadw-audit': '1.000000' })
    expect(invokeOptionHeaders({ audit: false })).toEqual({})
    expect(invokeOptionHeaders({ audit: 0 })).toEqual({ 'shadw-audit': '0.000000' })
    const withSignal = { nonce: new Uint8Array(32), signal: new AbortController().signal, deadline: 5 }
    expect(invokeOptionHeaders(withSignal)).toEqual({ 'shadw-deadline': '5' })
    expect(parseInvokeHeaders(new Headers())).toEqual({})
    // the bridge carries the nonce; other fields of the params are not options
    const nonce = new Uint8Array(32).fill(7)
    expect(checkInvokeOptions({ nonce, ref: 'x', extra: 1 })).toEqual({ nonce })
  })

  it('refuses malformed headers with the gateway\'s codes', () => {
    const parse = (name: string, value: string): string => codeOf(() => parseInvokeHeaders(new Headers({ [name]: value })))
    for (const name of ['shadw-redundancy', 'shadw-quorum', 'shadw-deadline', 'shadw-max-charge']) {
      for (const bad of ['-1', '1.5', 'x', '', '1234567890']) expect([name, bad, parse(name, bad)]).toEqual([name, bad, 'INVALID_ARGUMENT'])
    }
    for (const bad of ['2', '-0.1', '1.1', '0.1234567', 'true']) expect([bad, parse('shadw-audit', bad)]).toEqual([bad, 'INVALID_ARGUMENT'])
    for (const bad of ['', 'sepolia', 'sepolia=', 'sepolia=-1', 'sepolia=01', 'se-polia=1', 'a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9']) expect([bad, parse('shadw-blocks', bad)]).toEqual([bad, 'INVALID_ARGUMENT'])
    expect(parse('shadw-auth', '{not json')).toBe('AUTH_MALFORMED')
    expect(parse('shadw-auth', JSON.stringify('a'.repeat(MAX_AUTH_CHARS)))).toBe('AUTH_MALFORMED')
  })

  it('refuses bad values from the SDK\'s caller or the bridge with the same codes', () => {
    const bads: Array<[Record<string, unknown>, string]> = [
      [{ redundancy: -1 }, 'INVALID_ARGUMENT'],
      [{ quorum: 1.5 }, 'INVALID_ARGUMENT'],
      [{ deadline: '100' }, 'INVALID_ARGUMENT'],
      [{ maxCharge: Number.NaN }, 'INVALID_ARGUMENT'],
      [{ maxCharge: 2 ** 53 }, 'INVALID_ARGUMENT'],
      [{ audit: 2 }, 'INVALID_ARGUMENT'],
      [{ blocks: { sepolia: 1 } }, 'INVALID_ARGUMENT'],
      [{ blocks: { sepolia: -1n } }, 'INVALID_ARGUMENT'],
      [{ blocks: {} }, 'INVALID_ARGUMENT'],
      [{ audit: 'yes' }, 'INVALID_ARGUMENT'],
      [{ nonce: [1, 2, 3] }, 'INVALID_ARGUMENT'],
      [{ nonce: new Uint8Array(31) }, 'INVALID_ARGUMENT'],
      [{ auth: 'a'.repeat(MAX_AUTH_CHARS) }, 'AUTH_MALFORMED'],
      [{ auth: 10n }, 'AUTH_MALFORMED']
    ]
    for (const [values, code] of bads) {
      expect([values, codeOf(() => checkInvokeOptions(values))]).toEqual([values, code])
      if (values['nonce'] === undefined) expect([values, codeOf(() => invokeOptionHeaders(values as WireInvokeOptions))]).toEqual([values, code])
    }
    // any JSON value is an auth for the executor's gate to judge (null included)
    expect(checkInvokeOptions({ auth: null })).toEqual({ auth: null })
    expect(invokeOptionHeaders({ auth: null })).toEqual({ 'shadw-auth': 'null' })
  })
})
