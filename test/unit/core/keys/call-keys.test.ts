/**
 * callKeys (src/core/keys/call-keys.ts): an executor waiting for a key's holders waits within
 * its call's time: the call's deadline ends the wait with the deadline's own error, and a call
 * with little time left goes ahead and names the holders it could not reach.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { callKeys, KeyService } from '../../../../src/core/keys/index.ts'

/** An executor's key service with no connection: no holder is ever reachable. */
function alone (): KeyService {
  return new KeyService({ host: { on: () => () => {}, connections: () => [] }, keyPair: crypto.keyPair() })
}

const hex = (): string => b4a.toString(crypto.randomBytes(32), 'hex')
const ref = { keyId: hex(), dealer: hex(), threshold: 2, holders: [hex(), hex(), hex()] }

describe('callKeys', () => {
  it('the call\'s deadline ends the wait for holders with the deadline\'s error, not a bare abort', async () => {
    const deadline = new AbortController()
    const fetching = callKeys(alone(), { waitMs: 60_000 }).fetch(ref, { auth: {}, call: hex(), signal: deadline.signal })
    setTimeout(() => { deadline.abort(ShadwError.DEADLINE_EXCEEDED(10_000)) }, 100)
    await expect(fetching).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' })
  })

  it('with little of the call\'s time left the fetch goes ahead and names each unreachable holder', async () => {
    // the default wait is far longer than this test's own timeout: only the call's time ends it
    const fetching = callKeys(alone()).fetch(ref, { auth: {}, call: hex(), leftMs: 1_200 })
    const err = await fetching.then(() => null, (e: unknown) => e as ShadwError)
    expect(err).toMatchObject({ code: 'KEY_SHARES_SHORT' })
    expect(Object.values(err?.details?.['refusals'] as Record<string, string>)).toEqual(['NODE_CLOSED', 'NODE_CLOSED', 'NODE_CLOSED'])
  }, 8_000)
})
