/**
 * The names a node's keys are derived under are part of what it stores: Corestore derives a
 * named log's key (and the node's swarm identity) from the storage's primary key and the
 * name. These pins were derived with the literal names the hosts and services used before
 * the names were defined once; a node started on existing storage must find the same keys.
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import RAM from 'random-access-memory'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ATTESTATIONS_LOG_NAME, LEDGER_LOG_NAME, MISSES_LOG_NAME, SERVICE_LOG_NAMES } from '../../../../src/core/ledger/index.ts'
import { nodeIdentity } from '../../../../src/core/node/index.ts'
import { LOG_INDEX_NAME } from '../../../../src/core/node/log-store.ts'

async function storeWithPrimaryKey (): Promise<Corestore> {
  const store = new Corestore(RAM.reusable(), { primaryKey: new Uint8Array(32).fill(1) })
  onTestFinished(async () => { await store.close() })
  await store.ready()
  return store
}

async function keyOfLog (store: Corestore, name: string): Promise<string> {
  const core = store.get({ name })
  await core.ready()
  return b4a.toString(core.key ?? new Uint8Array(), 'hex')
}

describe('stored names', () => {
  it('derives the node identity under the name it always had', async () => {
    const store = await storeWithPrimaryKey()
    expect(b4a.toString((await nodeIdentity(store)).publicKey, 'hex')).toBe('532b49d8dcf003a13ffd68ba0eaa29c6bb4af137dfd9cef821dd862584039a9b')
  })

  it('derives the service logs and the local log index under the names they always had', async () => {
    const store = await storeWithPrimaryKey()
    expect(await keyOfLog(store, LEDGER_LOG_NAME)).toBe('cabc12ed7374be05feb336d6b32f5473b5ecd2c3497850dcc615f9c7e51f68c3')
    expect(await keyOfLog(store, MISSES_LOG_NAME)).toBe('a90fade16386fd2037a77bfd76fa87afdbeb81a17284dd81e59242e8d865c6e8')
    expect(await keyOfLog(store, ATTESTATIONS_LOG_NAME)).toBe('5e878f68013beb08b5641c442172f3edbdd638ec91a1d85631e92bf67279f3c8')
    expect(await keyOfLog(store, LOG_INDEX_NAME)).toBe('579a610a588d562b9ef06b8e1f6c376fd3a78f9d58cd0e1a2b32cf205d4dfe4e')
  })

  it('reserves exactly the service logs for the node', () => {
    expect([...SERVICE_LOG_NAMES].sort()).toEqual(['attestations', 'ledger', 'misses', 'storage-ledger'])
  })
})
