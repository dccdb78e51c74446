import { wrap, expose, type Endpoint } from 'comlink'
import { MessageChannel } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { installErrorTransfer } from '../../../../src/browser/executor/comlink-errors.ts'
import { ShadwError } from '../../../../src/core/errors.ts'

describe('comlink error transfer', () => {
  const channels: MessageChannel[] = []
  afterEach(() => { for (const c of channels.splice(0)) { c.port1.close(); c.port2.close() } })

  it('keeps the code, message and details of a ShadwError thrown across comlink', async () => {
    installErrorTransfer()
    const channel = new MessageChannel()
    channels.push(channel)
    expose({ fail: () => { throw ShadwError.FUEL_EXHAUSTED(1000) } }, channel.port1 as unknown as Endpoint)
    const remote = wrap<{ fail (): void }>(channel.port2 as unknown as Endpoint)
    const err = await remote.fail().then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(ShadwError)
    expect((err as ShadwError).code).toBe('FUEL_EXHAUSTED')
    expect((err as ShadwError).message).toBe('FUEL_EXHAUSTED: fuel exhausted (limit 1000)')
    expect((err as ShadwError).details).toEqual({ fuel: 1000 })
  })

  it('turns a plain Error into INTERNAL', async () => {
    installErrorTransfer()
    const channel = new MessageChannel()
    channels.push(channel)
    expose({ fail: () => { throw new TypeError('boom') } }, channel.port1 as unknown as Endpoint)
    const remote = wrap<{ fail (): void }>(channel.port2 as unknown as Endpoint)
    const err = await remote.fail().then(() => undefined, (e: unknown) => e)
    expect((err as ShadwError).code).toBe('INTERNAL')
    expect((err as ShadwError).message).toBe('INTERNAL: boom')
  })
})
