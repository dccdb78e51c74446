/**
 * `npm run fuzz`: feeds at least 100,000 random and mutated inputs to every decoder that
 * reads peer, page, worker or file data (test/fuzz/targets.ts) and prints, per decoder, how
 * many inputs it accepted, refused (by code), which were slow, and which crashed: threw
 * anything but a ShadwError with one of its codes. Exits 1 on any crash or hang.
 *
 *   npm run fuzz                      # seed from the clock, 100,000 inputs
 *   npm run fuzz -- --seed 42 --runs 200000
 *
 * Known bugs (reported, listed in the targets) are counted apart and do not fail the run.
 */
import fc from 'fast-check'
import '../helpers/quiet-lit.ts'
import { Harness } from '../integration/hostile/harness.ts'
import { judge, loadTargets } from './targets.ts'

/** An input that takes longer than this is reported as a hang (inputs are bounded to a few KiB). */
const HANG_MS = 2_000
/** Inputs drawn per batch: fc.sample materialises them, so batches bound memory. */
const BATCH = 500

function arg (name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}

const seed = arg('seed', Date.now() % 2 ** 31)
const total = arg('runs', 100_000)
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined
const targets = (await loadTargets()).filter(t => only === undefined || t.name === only)
const perTarget = Math.ceil(total / targets.length)
console.log(`fuzz: seed ${seed}, ${perTarget} inputs per decoder, ${targets.length} decoders`)

let inputs = 0
let crashes = 0
let hangs = 0
let knownBugHits = 0
let roundTripFailures = 0
const started = performance.now()
for (const [i, t] of targets.entries()) {
  const t0 = performance.now()
  const refused = new Map<string, number>()
  let ok = 0
  let known = 0
  let slowest = 0
  const crashSamples: string[] = []
  for (let done = 0; done < perTarget; done += BATCH) {
    const batch = fc.sample(t.input, { numRuns: Math.min(BATCH, perTarget - done), seed: seed + i * 1_000_003 + done })
    for (const input of batch) {
      const s = performance.now()
      const v = await judge(t, input)
      const ms = performance.now() - s
      slowest = Math.max(slowest, ms)
      if (ms > HANG_MS) { hangs++; crashSamples.push(`slow input (${ms.toFixed(0)} ms)`) }
      inputs++
      if (v.kind === 'ok') ok++
      else if (v.kind === 'refused') refused.set(v.code, (refused.get(v.code) ?? 0) + 1)
      else if (v.kind === 'known-bug') { known++; knownBugHits++ } else {
        crashes++
        if (crashSamples.length < 3) crashSamples.push(`${v.message} <- ${JSON.stringify(input, (_k, x: unknown) => x instanceof Uint8Array ? `bytes:${Buffer.from(x).toString('hex').slice(0, 200)}` : x)?.slice(0, 400)}`)
      }
    }
  }
  let rt = ''
  if (t.roundTrip !== undefined) {
    const r = await fc.check(t.roundTrip as fc.IAsyncPropertyWithHooks<[unknown]>, { numRuns: 200, seed })
    rt = r.failed ? ` round-trip FAILED: ${fc.stringify(r.counterexample).slice(0, 400)} ${r.errorInstance instanceof Error ? r.errorInstance.message : ''}` : ' round-trip ok (200)'
    if (r.failed) roundTripFailures++
  }
  const codes = [...refused].map(([c, n]) => `${c} ${n}`).join(', ')
  console.log(`${t.name.padEnd(32)} ${String(perTarget).padStart(6)} inputs  ok ${String(ok).padStart(5)}  refused: ${codes || '-'}` +
    `${known > 0 ? `  known-bug ${known} (${t.knownBug?.where ?? ''})` : ''}  crashes ${crashSamples.length > 0 ? crashSamples.length : 0}` +
    `  slowest ${slowest.toFixed(1)} ms  ${((performance.now() - t0) / 1000).toFixed(1)} s${rt}`)
  for (const c of crashSamples) console.log(`    ${c}`)
}
// Frames through a live relay: random messages on the dht-relay channel of handshaken
// sockets, then two fresh clients must still connect through it.
const relayFrames = only === undefined ? arg('relay-frames', 1000) : 0
if (relayFrames > 0) {
  const t0 = performance.now()
  const harness = new Harness('0x', null)
  const frames = fc.sample(fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 40 }), fc.uint8Array({ maxLength: 300 })).map(([type, rest]) => Uint8Array.from([1, type, ...rest])),
    fc.uint8Array({ minLength: 1, maxLength: 300 })
  ), { numRuns: relayFrames, seed })
  const closes = new Map<string, number>()
  let sent = 0
  let sockets = 0
  while (sent < frames.length) {
    const { socket, closed } = await harness.relayClient()
    sockets++
    const state = { code: null as number | null }
    void closed.then(c => { state.code = c })
    for (let k = 0; k < 40 && sent < frames.length && state.code === null; k++) {
      socket.send(frames[sent++] as Uint8Array)
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    const final = await Promise.race([closed, new Promise<null>(resolve => setTimeout(() => { resolve(null) }, 200))])
    const key = final === null ? 'still open' : `close ${final}`
    closes.set(key, (closes.get(key) ?? 0) + 1)
    socket.terminate()
  }
  const serves = await harness.relayStillServes()
  const { relay } = await harness.relayFor()
  console.log(`${'relay.frames (live relay)'.padEnd(32)} ${String(sent).padStart(6)} frames on ${sockets} sockets: ${[...closes].map(([k, n]) => `${k} ${n}`).join(', ')}; ` +
    `relay errors ${relay.stats().errors}; two fresh clients connect afterwards: ${serves ? 'yes' : 'NO'}  ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  if (!serves) crashes++
  inputs += sent
  await harness.close()
}

console.log(`\nfuzz: ${inputs} inputs in ${((performance.now() - started) / 1000).toFixed(1)} s, seed ${seed}: ${crashes} crashes, ${hangs} hangs, ${roundTripFailures} round-trip failures, ${knownBugHits} hits of known bugs`)
process.exit(crashes + hangs + roundTripFailures > 0 ? 1 : 0)
