/**
 * `shadw start`: runs a node until Ctrl-C. On first start with empty storage it publishes the
 * built examples (examples/) under a local example publisher first, so the app's playground
 * and `/fn` have functions to run at once; `--no-examples` skips that.
 */
import { readdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ShadwError } from '../core/errors.ts'
import { enableLog } from '../core/log.ts'
import { defaultDir } from '../super-node/data-dir.ts'
import { DEFAULT_PORT, SuperNode } from '../super-node/super-node.ts'
import { parseTier, TIER_ROLES, type NodeTier } from '../core/node/index.ts'
import { parseSize } from '../core/pinning/index.ts'
import { parseRpcOption } from '../core/access/index.ts'
import { publishExamples, type PublishedExamples } from './examples-publish.ts'
import { withProgress } from './progress.ts'

/** One line on what a tier does (the table is in docs/pricing.md). */
function tierSummary (tier: NodeTier): string {
  const r = TIER_ROLES[tier]
  return [r.relays && 'relays', r.stores && 'stores', r.computes && 'computes', r.signs && 'signs'].filter(Boolean).join(', ')
}

/** The built web app that ships with this checkout. */
const APP_ROOT = fileURLToPath(new URL('../../dist', import.meta.url))

/** How long `shadw start` waits for a clean stop after SIGINT/SIGTERM before it exits anyway. */
const STOP_TIMEOUT_MS = 20_000

/** Runs `shadw start`; resolves to the exit code once the node has stopped. */
export async function startCommand (args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: String(DEFAULT_PORT) },
      host: { type: 'string', default: '127.0.0.1' },
      bootstrap: { type: 'string' },
      public: { type: 'boolean', default: false },
      storage: { type: 'string', default: join(defaultDir('data'), 'super-node') },
      app: { type: 'string', default: APP_ROOT },
      workers: { type: 'string' },
      webrtc: { type: 'boolean', default: false },
      tier: { type: 'string', default: 'super' },
      verbose: { type: 'boolean', default: false },
      'no-examples': { type: 'boolean', default: false },
      'disk-budget': { type: 'string' },
      'memory-budget': { type: 'string' },
      'repin-grace': { type: 'string' },
      'proof-interval': { type: 'string' },
      rpc: { type: 'string', multiple: true },
      'key-holder': { type: 'boolean', default: false }
    },
    strict: true
  })
  const tier = parseTier(values.tier)
  if (values.verbose) enableLog('*')
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw ShadwError.INVALID_ARGUMENT(`--port must be 0-65535, got ${values.port}`)
  const workers = values.workers === undefined ? undefined : Number(values.workers)
  if (workers !== undefined && (!/^\d+$/.test(values.workers ?? '') || workers > 256)) throw ShadwError.INVALID_ARGUMENT(`--workers must be 0-256, got ${values.workers}`)
  if (values.public && values.bootstrap !== undefined) throw ShadwError.INVALID_ARGUMENT('--public and --bootstrap exclude each other')
  const diskBudget = values['disk-budget'] === undefined ? undefined : parseSize(values['disk-budget'])
  const memoryBudget = values['memory-budget'] === undefined ? undefined : parseSize(values['memory-budget'])
  if (memoryBudget !== undefined && memoryBudget < 1024 * 1024) throw ShadwError.INVALID_ARGUMENT(`--memory-budget must be at least 1MiB, got ${JSON.stringify(values['memory-budget'])}`)
  const graceArg = values['repin-grace']
  if (graceArg !== undefined && !/^\d+$/.test(graceArg)) throw ShadwError.INVALID_ARGUMENT(`--repin-grace needs a number of milliseconds, got ${JSON.stringify(graceArg)}`)
  const proofArg = values['proof-interval']
  if (proofArg !== undefined && !/^[1-9]\d*$/.test(proofArg)) throw ShadwError.INVALID_ARGUMENT(`--proof-interval needs a positive number of milliseconds, got ${JSON.stringify(proofArg)}`)

  // before the node opens the storage: publishing is a registry write, as `shadw publish` does
  const examples = values['no-examples'] || !(await isEmptyDir(values.storage))
    ? null
    : await withProgress('publishing the examples', async () => await publishExamples(values.storage))
  const node = await SuperNode.start({
    storage: values.storage,
    appRoot: values.app,
    port,
    host: values.host,
    bootstrap: values.bootstrap?.split(',').filter(Boolean),
    public: values.public,
    webrtc: values.webrtc,
    tier,
    ...(workers === undefined ? {} : { workers }),
    ...(diskBudget === undefined ? {} : { diskBudget }),
    ...(memoryBudget === undefined ? {} : { memoryBudgetBytes: memoryBudget }),
    ...(graceArg === undefined ? {} : { repinGraceMs: Number(graceArg) }),
    ...(proofArg === undefined ? {} : { proofIntervalMs: Number(proofArg) }),
    ...(values.rpc === undefined ? {} : { rpc: parseRpcOption(values.rpc) }),
    ...(values['key-holder'] ? { keyHolder: true } : {})
  })
  const { info } = node
  // listening before the banner: a pipe write is synchronous, so whoever reads the banner may
  // signal before the next line runs, and an unhandled SIGTERM kills the node without stopping it
  const stopSignal = new Promise<void>(resolve => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      resolve()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
  process.stdout.write([
    `shadw ${tier} node running`,
    `  app:        ${info.appUrl}`,
    `  relay:      ${TIER_ROLES[tier].relays ? info.relayUrl : `off (${tier} tier)`}`,
    `  tier:       ${tier} (${tierSummary(tier)})`,
    `  bootstrap:  ${info.bootstrap.length > 0 ? info.bootstrap.join(',') : '(public HyperDHT)'}`,
    `  public key: ${info.publicKey}`,
    `  executor:   ${node.executor === null ? (TIER_ROLES[tier].computes ? 'off (--workers 0)' : `off (${tier} tier)`) : `${node.executor.service.slots} slots, ledger ${node.executor.ledgerKey}, misses ${node.executor.missesKey}`}`,
    `  chains:     ${values.rpc === undefined ? 'none (conditions that read a chain are refused; --rpc CHAIN=URL[,URL…])' : Object.entries(parseRpcOption(values.rpc)).map(([c, u]) => `${c} (${u.length} endpoint${u.length === 1 ? '' : 's'})`).join(', ')}`,
    `  holder:     ${node.holder === null ? (TIER_ROLES[tier].stores ? 'off (--disk-budget 0)' : `off (${tier} tier)`) : `disk budget ${node.holder.budget.total} bytes, ${node.holder.budget.free} free`}`,
    `  webrtc:     ${values.webrtc ? 'takes direct links from browsers' : 'off (--webrtc to take direct links from browsers)'}`,
    `  storage:    ${values.storage}`,
    ...examplesLines(examples, info.appUrl),
    'press Ctrl-C to stop',
    ''
  ].join('\n'))

  await stopSignal
  process.stdout.write('stopping…\n')
  // every part's stop is bounded, so this is a backstop: a stop that still hangs (a bug) or a
  // second signal ends the process, which releases the storage lock with it
  let force: () => void = () => {}
  const forced = new Promise<'forced'>(resolve => { force = () => { resolve('forced') } })
  const timer = setTimeout(force, STOP_TIMEOUT_MS)
  process.once('SIGINT', force)
  process.once('SIGTERM', force)
  const how = await Promise.race([node.stop().then(() => 'stopped' as const), forced])
  clearTimeout(timer)
  process.off('SIGINT', force)
  process.off('SIGTERM', force)
  if (how === 'forced') {
    process.stderr.write(`shadw: the node did not stop within ${STOP_TIMEOUT_MS} ms (or was signalled twice); exiting without a clean stop\n`)
    // the hung part may hold handles that would keep the process alive
    process.exit(1)
  }
  process.stdout.write('stopped\n')
  return 0
}

/** True when `dir` does not exist or holds nothing: a first start. */
async function isEmptyDir (dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return true
    throw err
  }
}

/** The banner's lines on the examples published at this start. */
function examplesLines (examples: PublishedExamples | null, appUrl: string): string[] {
  if (examples === null) return []
  // the hash takes any input, so its line works as it stands in a terminal
  const hash = examples.refs.find(r => r.example.name === 'sha256')
  return [
    `  examples:   ${examples.refs.length} published by the local example publisher (its key is in the storage; --no-examples skips this)`,
    `              ${examples.publisher}/<name>@<version>:`,
    ...examples.refs.map(r => `              ${`${r.example.name}@${r.example.version}`.padEnd(22)}${r.example.title}`),
    ...(hash === undefined ? [] : [`  try:        curl --data-binary hello ${appUrl}fn/${hash.ref}`])
  ]
}
