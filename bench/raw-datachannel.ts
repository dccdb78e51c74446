/**
 * Same-run baseline for the browser benches: a raw RTCDataChannel between the same two
 * Chromium pages that the measured path runs between, with the same ICE setup as a link
 * (no STUN/TURN, host candidates on loopback, `--allow-loopback-in-peer-connection`), and
 * no Noise, no Hypercore, no worker hop. Signalling goes through the bench (non-trickle:
 * each side's description once its ICE gathering is complete).
 *
 * - Throughput: the sender writes `totalBytes` in messages of `messageBytes` (the bench's
 *   block size), keeping the channel's buffer between a low and a high mark with
 *   `bufferedAmountLowThreshold`, as a sender that wants full speed must; the receiver
 *   answers once it counted every byte. MB/s from the first write to that answer.
 * - Round trip: `pings` 16-byte messages, each echoed before the next leaves; then the same
 *   16-byte requests each answered by one `messageBytes` message (a block round trip's floor).
 *
 * The page code is sent as source text: tsx's keepNames helper (`__name`) does not exist in
 * the page.
 */
import type { Page } from 'playwright-core'

/** What the raw data channel did between two pages. */
export interface RawDataChannelResult {
  messageBytes: number
  totalBytes: number
  mbPerS: number
  rttMedianMs: number
  rttP90Ms: number
  /**
   * Round trip of a 16-byte request answered by one `messageBytes` message (a block's size):
   * the floor for a block `get` on this channel, which the 16-byte echo understates because
   * the answer crosses as many SCTP packets.
   */
  blockRttMedianMs: number
  blockRttP90Ms: number
}

/** The page-side state, under one global name so the two helpers below find each other. */
const SLOT = '__shadwRawDc'

/** Bound on the connection coming up and on each measurement. */
const TIMEOUT_MS = 60_000

const gather = `async (pc) => {
  if (pc.iceGatheringState === 'complete') return
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('ICE gathering timed out')), ${TIMEOUT_MS})
    pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') { clearTimeout(t); resolve() } })
  })
}`

const opened = `async (ch) => {
  if (ch.readyState === 'open') return
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('data channel did not open')), ${TIMEOUT_MS})
    ch.addEventListener('open', () => { clearTimeout(t); resolve() })
  })
}`

/** Opens the raw channel: `a` offers (and will send the bulk bytes), `b` answers. */
async function connect (a: Page, b: Page): Promise<void> {
  const offer = await a.evaluate(`(async () => {
    const gather = ${gather}
    const pc = new RTCPeerConnection({ iceServers: [] })
    const ch = pc.createDataChannel('raw-baseline', { ordered: true })
    ch.binaryType = 'arraybuffer'
    window.${SLOT} = { pc, ch }
    await pc.setLocalDescription(await pc.createOffer())
    await gather(pc)
    return pc.localDescription.sdp
  })()`) as string
  const answer = await b.evaluate(`(async () => {
    const gather = ${gather}
    const pc = new RTCPeerConnection({ iceServers: [] })
    const slot = { pc, ch: null }
    window.${SLOT} = slot
    const got = new Promise(resolve => { pc.addEventListener('datachannel', ev => { ev.channel.binaryType = 'arraybuffer'; slot.ch = ev.channel; resolve() }) })
    await pc.setRemoteDescription({ type: 'offer', sdp: ${JSON.stringify(offer)} })
    await pc.setLocalDescription(await pc.createAnswer())
    await gather(pc)
    window.${SLOT}.got = got
    return pc.localDescription.sdp
  })()`) as string
  await a.evaluate(`(async () => {
    const s = window.${SLOT}
    await s.pc.setRemoteDescription({ type: 'answer', sdp: ${JSON.stringify(answer)} })
    await (${opened})(s.ch)
  })()`)
  await b.evaluate(`(async () => {
    const s = window.${SLOT}
    await Promise.race([s.got, new Promise((_, reject) => setTimeout(() => reject(new Error('no data channel')), ${TIMEOUT_MS}))])
    await (${opened})(s.ch)
  })()`)
}

/** Bulk bytes `a` → `b`; returns MB/s (10^6 bytes) as `a` saw it, first write to `b`'s answer. */
async function throughput (a: Page, b: Page, messageBytes: number, totalBytes: number): Promise<number> {
  await b.evaluate(`(() => {
    const s = window.${SLOT}
    let n = 0
    s.ch.onmessage = ev => {
      n += ev.data.byteLength
      if (n >= ${totalBytes}) { s.ch.send('done'); n = 0 }
    }
  })()`)
  return await a.evaluate(`(async () => {
    const ch = window.${SLOT}.ch
    const high = 1024 * 1024
    ch.bufferedAmountLowThreshold = 256 * 1024
    const done = new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('raw throughput timed out')), ${TIMEOUT_MS})
      ch.onmessage = ev => { if (ev.data === 'done') { clearTimeout(t); resolve() } }
    })
    const block = new Uint8Array(${messageBytes})
    crypto.getRandomValues(block.subarray(0, Math.min(block.length, 65536)))
    const t0 = performance.now()
    for (let sent = 0; sent < ${totalBytes}; sent += ${messageBytes}) {
      if (ch.bufferedAmount > high) await new Promise(resolve => { ch.onbufferedamountlow = resolve })
      ch.send(block)
    }
    await done
    const ms = performance.now() - t0
    return ${totalBytes} / 1e6 / (ms / 1000)
  })()`) as number
}

/**
 * `pings` round trips `a` → `b` → `a`, one at a time, of a 16-byte message answered with
 * `replyBytes` bytes (16: an echo); sorted ms.
 */
async function roundTrips (a: Page, b: Page, pings: number, replyBytes = 16): Promise<number[]> {
  await b.evaluate(`(() => {
    const ch = window.${SLOT}.ch
    const reply = new Uint8Array(${replyBytes})
    crypto.getRandomValues(reply.subarray(0, Math.min(reply.length, 65536)))
    ch.onmessage = ev => { ch.send(${replyBytes} === 16 ? ev.data : reply) }
  })()`)
  const samples = await a.evaluate(`(async () => {
    const ch = window.${SLOT}.ch
    let wake = null
    ch.onmessage = () => { wake() }
    const out = []
    const msg = new Uint8Array(16)
    for (let i = 0; i <= ${pings}; i++) {
      const t = performance.now()
      await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('raw ping timed out')), 10000)
        wake = () => { clearTimeout(timer); resolve() }
        ch.send(msg)
      })
      if (i > 0) out.push(performance.now() - t)
    }
    return out
  })()`) as number[]
  return samples.sort((x, y) => x - y)
}

/** Closes both ends (the pages stay). */
async function close (a: Page, b: Page): Promise<void> {
  for (const p of [a, b]) await p.evaluate(`(() => { const s = window.${SLOT}; if (s) { s.pc.close(); delete window.${SLOT} } })()`).catch(() => {})
}

/**
 * The raw baseline between `sender` and `receiver`: bulk bytes sender → receiver, round
 * trips receiver → sender → receiver (the receiver stands for the side that requests).
 */
export async function rawDataChannel (sender: Page, receiver: Page, opts: { messageBytes: number, totalBytes: number, pings: number }): Promise<RawDataChannelResult> {
  await connect(sender, receiver)
  try {
    const mbPerS = await throughput(sender, receiver, opts.messageBytes, opts.totalBytes)
    const rtt = await roundTrips(receiver, sender, opts.pings)
    const blockRtt = await roundTrips(receiver, sender, opts.pings, opts.messageBytes)
    return {
      messageBytes: opts.messageBytes,
      totalBytes: opts.totalBytes,
      mbPerS,
      rttMedianMs: rtt[Math.floor(rtt.length / 2)] ?? NaN,
      rttP90Ms: rtt[Math.floor(rtt.length * 0.9)] ?? NaN,
      blockRttMedianMs: blockRtt[Math.floor(blockRtt.length / 2)] ?? NaN,
      blockRttP90Ms: blockRtt[Math.floor(blockRtt.length * 0.9)] ?? NaN
    }
  } finally {
    await close(sender, receiver)
  }
}
