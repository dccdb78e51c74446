import b4a from 'b4a'
import Protomux from 'protomux'
import { describe, expect, it } from 'vitest'
import { decodeMessage, encodeMessage, INVOKE_PROTOCOL, type InvokeMessage } from '../../../../src/core/invoke/index.ts'
import { MAX_FRAME_BYTES } from '../../../../src/core/invoke/protocol.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { callerNode, executorNode, keyedNode, publisher, sharedExecutor, until } from '../../../helpers/invoke.ts'

/** A raw channel on the connection to `remote`: the test speaks bytes, not our codec. */
async function rawChannel (node: Awaited<ReturnType<typeof keyedNode>>['node'], remote: string): Promise<{ send (bytes: Uint8Array): void, received: InvokeMessage[], closed: () => boolean, conn: { destroyed?: boolean } }> {
  await until('a connection to the executor', () => node.connections().some(([, p]) => p.publicKey === remote))
  const [conn] = node.connections().find(([, p]) => p.publicKey === remote) as [Parameters<typeof Protomux.from>[0], unknown]
  const received: InvokeMessage[] = []
  let closed = false
  let opened = false
  const channel = Protomux.from(conn).createChannel({ protocol: INVOKE_PROTOCOL, onopen: () => { opened = true }, onclose: () => { closed = true } })
  if (channel === null) throw new Error('channel exists')
  const message = channel.addMessage<Uint8Array>({ onmessage: (bytes) => { received.push(decodeMessage(bytes)) } })
  channel.open()
  await until('the raw channel to open', () => opened)
  return { send: (bytes) => { message.send(bytes) }, received, closed: () => closed, conn: conn as { destroyed?: boolean } }
}

describe('malformed invocation frames', () => {
  const cases: Array<[string, Uint8Array]> = [
    ['an unknown message type', b4a.from([9, 1])],
    ['a truncated request', encodeMessage({ type: 'request', id: 1, ref: 'x/y@1', input: new Uint8Array(4), nonce: new Uint8Array(32), deadline: Date.now() + 1000, redundancy: 1, auth: null }).subarray(0, 12)],
    ['trailing bytes', b4a.concat([encodeMessage({ type: 'cancel', id: 3 }), b4a.from([0])])],
    ['a request with redundancy 0', b4a.from([2, 1, 1, 0x78, 0, ...new Uint8Array(32), 1, 0, 0])],
    ['an oversized frame', new Uint8Array(MAX_FRAME_BYTES + 1)]
  ]
  for (const [what, bytes] of cases) {
    it(`${what}: the executor answers INVOKE_PROTOCOL and closes the channel; the connection survives and the executor keeps serving`, async () => {
      const net = await testnet()
      const pub = await publisher(net)
      const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
      const exec = await executorNode(net, sharedExecutor(1))
      const raw = await keyedNode(net, 'light')
      const ch = await rawChannel(raw.node, exec.key)
      await until('the executor\'s capacity advert', () => ch.received.length > 0)
      expect(ch.received[0]).toMatchObject({ type: 'capacity', id: 0, free: 4, total: 4, tier: 'super' })
      ch.send(bytes)
      await until('the channel to close', () => ch.closed())
      const err = ch.received.find(m => m.type === 'error')
      expect(err).toMatchObject({ type: 'error', id: 0, code: 'INVOKE_PROTOCOL' })
      expect(ch.conn.destroyed).toBe(false)
      expect(raw.node.connections().some(([, p]) => p.publicKey === exec.key)).toBe(true)
      expect(exec.service.executions).toBe(0)

      const caller = await callerNode(net)
      await caller.endpoint.waitForExecutors(1, { timeoutMs: 20_000 })
      expect(b4a.toString((await caller.endpoint.invoke(ref, b4a.from('still here'), { deadline: 20_000 })).output)).toBe('still here')
    })
  }

  it('well-formed but hostile requests get typed errors for their id and the channel stays open: far deadline, passed deadline, unsolicited result; then a valid request runs', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const exec = await executorNode(net, sharedExecutor(1))
    const raw = await keyedNode(net, 'light')
    const ch = await rawChannel(raw.node, exec.key)
    const nonce = (n: number): Uint8Array => new Uint8Array(32).fill(n)
    const request = (id: number, deadline: number, n: number): Uint8Array => encodeMessage({ type: 'request', id, ref, input: b4a.from('hi'), nonce: nonce(n), deadline, redundancy: 1, auth: null })
    ch.send(request(1, Date.now() + 10 * 60_000, 1))
    ch.send(request(2, Date.now() - 1, 2))
    ch.send(encodeMessage({ type: 'result', id: 77, output: new Uint8Array(1), receipt: new Uint8Array(100), ledgerKey: new Uint8Array(32), ledgerIndex: 0 }))
    ch.send(request(3, Date.now() + 20_000, 3))
    await until('three answers', () => ch.received.filter(m => m.type === 'error' || m.type === 'result').length === 3)
    const answers = ch.received.filter(m => m.type === 'error' || m.type === 'result')
    expect(answers.find(m => m.id === 1)).toMatchObject({ type: 'error', code: 'INVALID_ARGUMENT' })
    expect(answers.find(m => m.id === 2)).toMatchObject({ type: 'error', code: 'DEADLINE_EXCEEDED' })
    const ok = answers.find(m => m.id === 3)
    expect(ok?.type).toBe('result')
    expect(b4a.toString((ok as { output: Uint8Array }).output)).toBe('hi')
    expect(ch.closed()).toBe(false)
    expect(exec.service.executions).toBe(1)
  })
})
