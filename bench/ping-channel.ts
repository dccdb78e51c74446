/**
 * The baseline of the invocation bench: a raw round trip (16 bytes out, 16 back) on a
 * Protomux channel of the same swarm connection the calls use — the same Noise stream,
 * the same UDX socket, the same event loops — with nothing done on either side but echoing.
 */
import Protomux from 'protomux'

const PING_PROTOCOL = 'shadw/bench-ping'

type Connection = Parameters<typeof Protomux.from>[0]

/** Echoes every message on the ping channel of `conn` (the executor's side). */
export function pingServer (conn: Connection): void {
  const mux = Protomux.from(conn)
  mux.pair({ protocol: PING_PROTOCOL }, () => {
    const ch = mux.createChannel({ protocol: PING_PROTOCOL })
    if (ch === null) return
    const msg = ch.addMessage<Uint8Array>({ onmessage: (b) => { msg.send(b) } })
    ch.open()
  })
}

/** Opens the ping channel on `conn`; resolves to one round trip. */
export async function pingClient (conn: Connection): Promise<() => Promise<void>> {
  let wake: (() => void) | null = null
  let opened: () => void = () => {}
  const open = new Promise<void>(resolve => { opened = resolve })
  const ch = Protomux.from(conn).createChannel({ protocol: PING_PROTOCOL, onopen: () => { opened() } })
  if (ch === null) throw new Error('ping channel exists')
  const msg = ch.addMessage<Uint8Array>({ onmessage: () => { wake?.() } })
  ch.open()
  await open
  const bytes = new Uint8Array(16)
  return async () => await new Promise<void>(resolve => { wake = resolve; msg.send(bytes) })
}
