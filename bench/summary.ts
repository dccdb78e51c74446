/**
 * bench/results/summary.json: one flat object, one key per figure, each ratio taken against
 * a baseline measured in the same `npm run bench` run. Figures come from the result files
 * the benches of this run wrote (a file older than the run is not read: a figure from an
 * earlier run would pass for today's) plus the CLI start times measured here. A figure this
 * run did not measure is null (the object stays flat: numbers and nulls), and the console
 * says why.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { wat } from '../test/fixtures/wasm/fixtures.ts'

const RESULTS = new URL('./results/', import.meta.url)
const BIN = fileURLToPath(new URL('../bin/shadw.js', import.meta.url))
/** Starts timed per CLI command, after one untimed start (which rebuilds a stale lib/). */
const CLI_RUNS = 7
/** Bound on one CLI start: a wedged start must not hang the bench. */
const CLI_TIMEOUT_MS = 30_000

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

type Json = Record<string, unknown>

/** A result file written since `since` (ms since epoch), or null. */
function fresh (name: string, since: number): Json | null {
  const file = new URL(`${name}.json`, RESULTS)
  if (!existsSync(file) || statSync(file).mtimeMs < since) return null
  return JSON.parse(readFileSync(file, 'utf8')) as Json
}

const at = (o: unknown, ...path: Array<string | number>): unknown => path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined), o)
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

/** Median wall time of `node bin/shadw.js ARGS`, process start to exit. */
function cliMs (args: string[]): number {
  const once = (): number => {
    const t = performance.now()
    execFileSync(process.execPath, [BIN, ...args], { stdio: 'ignore', timeout: CLI_TIMEOUT_MS })
    return performance.now() - t
  }
  once()
  return median(Array.from({ length: CLI_RUNS }, once))
}

/** The erasure bench's headline figures: codec MB/s in Node and Chromium, pin throughput over replication-3, expansion, repair of one holder. */
function erasureFigures (e: Json | null, figure: (key: string, value: number | null, why: string) => [string, number | null], notRun: string): Array<[string, number | null]> {
  const why = (part: string): string => e === null ? notRun : `the ${part} part failed`
  const out: Array<[string, number | null]> = []
  for (const s of ['4+2', '10+5']) {
    const k = s.replace('+', '_')
    out.push(
      figure(`erasure_${k}_encode_node_MBps`, num(at(e, s, 'codecEncodeMBps')), why('node codec')),
      figure(`erasure_${k}_decode_node_MBps`, num(at(e, s, 'codecDecodeMBps')), why('node codec')),
      figure(`erasure_${k}_encode_chromium_MBps`, num(at(e, 'chromium', 'schemes', s, 'codecEncodeMBps')), why('chromium')),
      figure(`erasure_${k}_decode_chromium_MBps`, num(at(e, 'chromium', 'schemes', s, 'codecDecodeMBps')), why('chromium')),
      figure(`erasure_${k}_pin_over_replication3`, num(at(e, 'pin', 'erasure', s, 'overReplication3')), why('pin')),
      figure(`erasure_${k}_stored_over_logical`, num(at(e, 'pin', 'erasure', s, 'storedOverLogical')), why('pin'))
    )
  }
  out.push(figure('replication3_stored_over_logical', num(at(e, 'pin', 'replication3', 0, 'storedOverLogical')), why('pin')))
  out.push(
    figure('erasure_4_2_repair_ms', num(at(e, 'repair', 'detectToAdoptedMs')), why('repair')),
    figure('erasure_4_2_repair_over_copy_time', num(at(e, 'repair', 'repairOverCopyTime')), why('repair')),
    figure('erasure_4_2_repair_over_copy_bytes', num(at(e, 'repair', 'repairOverCopyBytes')), why('repair')),
    figure('erasure_4_2_repair_bytes_over_shard', num(at(e, 'repair', 'repairBytesOverShard')), why('repair'))
  )
  return out
}

/** Writes bench/results/summary.json from this run's results; returns it. */
export async function writeSummary (runStartedMs: number): Promise<Record<string, number | null>> {
  const missing: string[] = []
  const figure = (key: string, value: number | null, why: string): [string, number | null] => {
    if (value === null) missing.push(`${key}: ${why}`)
    return [key, value === null ? null : round(value)]
  }
  const repl = fresh('replication', runStartedMs)
  const sandbox = fresh('sandbox', runStartedMs)
  const invocation = fresh('invocation', runStartedMs)
  const webrtc = fresh('webrtc', runStartedMs)
  const mounts = fresh('mounts', runStartedMs)
  const mountRouting = fresh('mount-routing', runStartedMs)
  const erasure = fresh('erasure', runStartedMs)

  const node16 = (repl?.['nodeToNode'] as Json[] | undefined)?.find(r => r['blockSize'] === 16384)
  const node1 = (repl?.['nodeToNode'] as Json[] | undefined)?.find(r => r['blockSize'] === 1024)
  const browser16 = (repl?.['ratios'] as Json[] | undefined)?.find(r => r['blockSize'] === 16384)
  const browser1 = (repl?.['ratios'] as Json[] | undefined)?.find(r => r['blockSize'] === 1024)
  // CPU of both processes per block: steadier than wall time on a shared machine
  const cpuPerBlock = (row: Json | undefined, sys = false): number | null => {
    const r = num(at(row, 'cpuUsPerBlock', sys ? 'readerSys' : 'reader'))
    const w = num(at(row, 'cpuUsPerBlock', sys ? 'writerSys' : 'writer'))
    return r === null || w === null ? null : r + w
  }
  // UDX datagrams both ways per block, counted at the reader: what the kernel's share scales with
  const datagramsPerBlock = (row: unknown): number | null => {
    const i = num(at(row, 'datagramsPerBlock', 'in'))
    const o = num(at(row, 'datagramsPerBlock', 'out'))
    return i === null || o === null ? null : Math.round((i + o) * 100) / 100
  }
  const invokeP50 = num(at(invocation, 'warmLatency', 'invokeMs', 'p50'))
  const rawP50 = num(at(invocation, 'warmLatency', 'rawRoundTripMs', 'p50'))
  const invokePerS = num(at(invocation, 'throughput', 'perSecond'))
  const nodePool = num(at(sandbox, 'poolThroughput', 'nodeCallsPerSecond'))
  const browserPool = num(at(sandbox, 'poolThroughput', 'browserCallsPerSecond'))
  // both measured in one window by their own bench (rounds alternated), not across benches
  const invokeOverPool = num(at(invocation, 'throughput', 'overPool'))
  const browserOverNodePool = num(at(sandbox, 'poolThroughput', 'browserOverNode'))
  const coldMs = num(at(invocation, 'coldStart', 'firstCallMs'))
  // tenant + executor CPU per call: steadier than wall time on a shared machine
  const cpuPerCall = (v: unknown): number | null => {
    const t = num(at(v as Json | undefined, 'tenant'))
    const e = num(at(v as Json | undefined, 'executor'))
    return t === null || e === null ? null : t + e
  }
  const median = (v: unknown): number | null => {
    if (!Array.isArray(v) || v.length === 0) return null
    const s = (v as number[]).filter(x => typeof x === 'number').sort((a, b) => a - b)
    return s[Math.floor(s.length / 2)] ?? null
  }
  const notRun = (name: string): string => `the ${name} bench did not run (or failed) in this run`

  const dir = mkdtempSync(join(tmpdir(), 'shadw-bench-cli-'))
  let helpMs: number
  let runMs: number
  try {
    const module = join(dir, 'echo.wasm')
    const input = join(dir, 'input')
    writeFileSync(module, await wat('echo'))
    writeFileSync(input, 'hello')
    helpMs = cliMs(['help'])
    runMs = cliMs(['run', module, '--input', input])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }

  const summary: Record<string, number | null> = Object.fromEntries([
    figure('replication_node_16k_MBps', num(node16?.['mbPerS']), repl === null ? notRun('replication') : 'no 16 KiB row'),
    figure('replication_node_16k_raw_MBps', num(at(node16, 'raw', 'mbPerS')), repl === null ? notRun('replication') : 'no raw baseline'),
    figure('replication_node_16k_over_raw', num(node16?.['overRaw']), repl === null ? notRun('replication') : 'no raw baseline'),
    figure('replication_node_16k_raw_udx_MBps', num(at(node16, 'rawUdx', 'mbPerS')), repl === null ? notRun('replication') : 'no raw UDX baseline'),
    figure('replication_node_16k_over_raw_udx', num(node16?.['overRawUdx']), repl === null ? notRun('replication') : 'no raw UDX baseline'),
    figure('replication_node_16k_udx_datagrams_per_block', datagramsPerBlock(node16), repl === null ? notRun('replication') : 'no datagram counts'),
    figure('replication_node_16k_raw_udx_datagrams_per_block', datagramsPerBlock(at(node16, 'rawUdx')), repl === null ? notRun('replication') : 'no datagram counts'),
    figure('replication_node_1k_blocks_per_s', num(node1?.['blocksPerS']), repl === null ? notRun('replication') : 'no 1 KiB row'),
    figure('replication_node_1k_over_raw', num(node1?.['overRaw']), repl === null ? notRun('replication') : 'no raw baseline'),
    figure('replication_node_16k_cpu_us_per_block', cpuPerBlock(node16), repl === null ? notRun('replication') : 'no CPU figures'),
    figure('replication_node_1k_cpu_us_per_block', cpuPerBlock(node1), repl === null ? notRun('replication') : 'no CPU figures'),
    // the kernel's part of the above (UDP sends and receives, file reads and writes)
    figure('replication_node_16k_cpu_sys_us_per_block', cpuPerBlock(node16, true), repl === null ? notRun('replication') : 'no system CPU figures'),
    figure('replication_node_1k_cpu_sys_us_per_block', cpuPerBlock(node1, true), repl === null ? notRun('replication') : 'no system CPU figures'),
    figure('replication_browser_over_node_16k', num(browser16?.['browserOverNode']), repl === null ? notRun('replication') : 'the browser part was skipped'),
    figure('replication_browser_over_node_1k', num(browser1?.['browserOverNode']), repl === null ? notRun('replication') : 'the browser part was skipped'),
    figure('webrtc_MBps', num(at(webrtc, 'webrtc', 'mbPerS')), notRun('webrtc')),
    figure('webrtc_raw_datachannel_MBps', num(at(webrtc, 'rawDataChannel', 'mbPerS')), notRun('webrtc')),
    figure('webrtc_over_raw_datachannel', num(at(webrtc, 'ratios', 'webrtcOverRawDataChannel')), notRun('webrtc')),
    figure('webrtc_block_rtt_ms', num(at(webrtc, 'webrtc', 'latencyMedianMs')), notRun('webrtc')),
    figure('webrtc_raw_datachannel_rtt_ms', num(at(webrtc, 'rawDataChannel', 'rttMedianMs')), notRun('webrtc')),
    figure('webrtc_block_rtt_over_dc_rtt', num(at(webrtc, 'ratios', 'webrtcBlockRttOverDcRtt')), notRun('webrtc')),
    figure('webrtc_raw_datachannel_block_rtt_ms', num(at(webrtc, 'rawDataChannel', 'blockRttMedianMs')), notRun('webrtc')),
    figure('webrtc_block_rtt_over_dc_block_rtt', num(at(webrtc, 'ratios', 'webrtcBlockRttOverDcBlockRtt')), notRun('webrtc')),
    figure('webrtc_over_relay', num(at(webrtc, 'ratios', 'webrtcOverRelayThroughput')), notRun('webrtc')),
    figure('invoke_p50_ms', invokeP50, notRun('invocation')),
    figure('invoke_raw_round_trip_p50_ms', rawP50, notRun('invocation')),
    figure('invoke_overhead_ms_p50', invokeP50 === null || rawP50 === null ? null : invokeP50 - rawP50, notRun('invocation')),
    figure('invoke_throughput_per_s', invokePerS, notRun('invocation')),
    figure('invoke_throughput_over_pool', invokeOverPool, notRun('invocation')),
    figure('invoke_raw_pool_per_s', num(at(invocation, 'throughput', 'rawPool', 'perSecond')), notRun('invocation')),
    figure('browser_invoke_link_p50_ms', num(at(invocation, 'browserToBrowser', 'overLink', 'invoke', 'p50')), invocation === null ? notRun('invocation') : 'the browser part or its link phase did not run'),
    figure('browser_invoke_p50_over_dc_rtt', num(at(invocation, 'browserToBrowser', 'overLink', 'p50OverDcRtt')), invocation === null ? notRun('invocation') : 'the browser part or its link phase did not run'),
    figure('node_pool_per_s', nodePool, notRun('sandbox')),
    figure('browser_pool_per_s', browserPool, sandbox === null ? notRun('sandbox') : 'the browser pool was skipped'),
    figure('browser_pool_over_node_pool', browserOverNodePool, sandbox === null ? notRun('sandbox') : 'the browser pool was skipped'),
    ...erasureFigures(erasure, figure, notRun('erasure')),
    figure('mount_kernel_over_native', num(at(mounts, 'kernel', 'ratioWarm')), notRun('mounts')),
    figure('mount_kernel_cold_over_native', num(at(mounts, 'kernel', 'ratioCold')), notRun('mounts')),
    figure('mount_cold_block_over_raw', num(at(mounts, 'coldBlock', 'ratio')), notRun('mounts')),
    figure('mount_cold_block_ms', num(at(mounts, 'coldBlock', 'mountReadMs')), notRun('mounts')),
    figure('mount_64m_holder_ms', num(mountRouting?.['holderMs']), notRun('mount-routing')),
    figure('mount_64m_non_holder_ms', num(mountRouting?.['nonHolderMs']), notRun('mount-routing')),
    figure('mount_64m_non_holder_over_holder', num(mountRouting?.['nonHolderOverHolder']), notRun('mount-routing')),
    figure('cold_invoke_ms', coldMs, notRun('invocation')),
    figure('cold_invoke_new_module_ms', num(at(invocation, 'coldStart', 'newModuleMedianMs')), notRun('invocation')),
    figure('cold_invoke_cold_executor_ms', num(at(invocation, 'coldStart', 'coldExecutorFirstCallMs')), notRun('invocation')),
    figure('cold_invoke_cached_ms', num(at(invocation, 'coldStart', 'cachedMs', 'p50')), notRun('invocation')),
    figure('cold_invoke_browser_ms', num(at(invocation, 'browserToBrowser', 'cold', 'firstCallMs')), invocation === null ? notRun('invocation') : 'the browser part was skipped'),
    figure('cold_invoke_browser_cached_ms', median(at(invocation, 'browserToBrowser', 'cold', 'cachedMs')), invocation === null ? notRun('invocation') : 'the browser part was skipped'),
    figure('cold_invoke_browser_after_reload_ms', num(at(invocation, 'browserToBrowser', 'cold', 'afterReloadMs')), invocation === null ? notRun('invocation') : 'the browser part was skipped'),
    figure('cold_invoke_browser_reload_ms', num(at(invocation, 'browserToBrowser', 'cold', 'afterReloadMs')), invocation === null ? notRun('invocation') : 'the browser part was skipped'),
    figure('cold_invoke_browser_registry_ms', num(at(invocation, 'browserToBrowser', 'cold', 'firstBreakdown', 'registryMs')), invocation === null ? notRun('invocation') : 'the browser part was skipped'),
    figure('cold_invoke_browser_fetch_ms', num(at(invocation, 'browserToBrowser', 'cold', 'firstBreakdown', 'fetchMs')), invocation === null ? notRun('invocation') : 'the browser part was skipped'),
    figure('cold_invoke_browser_prepare_run_ms', num(at(invocation, 'browserToBrowser', 'cold', 'firstBreakdown', 'prepareMs')), invocation === null ? notRun('invocation') : 'the browser part was skipped'),
    figure('cold_invoke_browser_receipt_ms', num(at(invocation, 'browserToBrowser', 'cold', 'firstBreakdown', 'receiptMs')), invocation === null ? notRun('invocation') : 'the browser part was skipped'),
    figure('invoke_cpu_us_per_call', cpuPerCall(at(invocation, 'throughput', 'cpuUsPerCall')), notRun('invocation')),
    figure('invoke_cpu_us_per_call_sequential', cpuPerCall(at(invocation, 'warmLatency', 'cpuUsPerCall')), notRun('invocation')),
    figure('invoke_cpu_us_per_raw_round_trip', cpuPerCall(at(invocation, 'warmLatency', 'cpuUsPerRawRoundTrip')), notRun('invocation')),
    figure('cli_help_ms', helpMs, 'not measured'),
    figure('cli_run_ms', runMs, 'not measured')
  ])
  mkdirSync(RESULTS, { recursive: true })
  writeFileSync(new URL('summary.json', RESULTS), JSON.stringify(summary, null, 2) + '\n')
  console.log('\nsummary (bench/results/summary.json):')
  for (const [k, v] of Object.entries(summary)) console.log(`  ${k.padEnd(36)} ${v === null ? '-' : String(v)}`)
  if (missing.length > 0) console.log(`not measured in this run:\n${missing.map(m => `  ${m}`).join('\n')}`)
  return summary
}
