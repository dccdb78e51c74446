import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ShadwError } from '../core/errors.ts'
import { enableLog } from '../core/log.ts'
import { defaultDir } from '../super-node/data-dir.ts'
import { DEFAULT_PORT, SuperNode } from '../super-node/super-node.ts'
import { parseTier, TIER_ROLES, type NodeTier } from '../core/node/index.ts'

const USAGE = `usage: shadw <command> [options]

commands:
  start     run a super node: DHT (embedded on loopback by default), relay, web app
  run       run a WebAssembly module locally in the sandbox
  keys      create or show the publisher key pair
  publish   sign a module and publish it to the local super node's registry
  list      list a publisher's functions in the local storage
  yank      mark one of your versions as not to be run
  inspect   show a function's verified manifest
  follow    have the local super node mirror and serve a publisher's registry
  invoke    invoke a function on the swarm; prints its output and signed receipts
  verify-receipt  check receipts offline (executor signature, input and output hashes)
  drive     versioned file drives on the swarm: create, put, ls, get (shadw drive help)
  help      show this text

shadw start [--port ${DEFAULT_PORT}] [--host 127.0.0.1] [--bootstrap host:port[,…]] [--public]
            [--storage DIR] [--app DIR] [--workers N] [--webrtc] [--tier super|storm|light|shadow] [--verbose]
shadw keys [show|create] [--force] [--show-secret] [--json]
shadw publish <module.wasm> --name NAME --version X.Y.Z [--abi raw|wasi] [--access FILE.json]
              [--fuel N] [--memory PAGES] [--deadline MS] [--max-input BYTES] [--max-output BYTES]
              [--price N] [--storage DIR] [--json]
shadw list [PUBLISHER] [--storage DIR] [--json]
shadw yank <[PUBLISHER/]NAME@VERSION> [--reason TEXT] [--storage DIR]
shadw inspect <[PUBLISHER/]NAME[@RANGE]> [--storage DIR] [--json]
shadw follow [PUBLISHER] [--storage DIR]
shadw invoke <PUBLISHER/NAME@RANGE> [--input FILE|-] [--redundancy K] [--quorum Q] [--deadline MS]
             [--max-charge µCREDITS] [--auth FILE.json] [--bootstrap host:port[,…] | --node URL] [--json]
shadw verify-receipt <FILE.json> [--input FILE] [--output FILE] [--json]
`

/** One line on what a tier does (the table is in docs/pricing.md). */
function tierSummary (tier: NodeTier): string {
  const r = TIER_ROLES[tier]
  return [r.relays && 'relays', r.stores && 'stores', r.computes && 'computes', r.signs && 'signs'].filter(Boolean).join(', ')
}

/** The built web app that ships with this checkout. */
const APP_ROOT = fileURLToPath(new URL('../../dist', import.meta.url))

/** Runs one CLI command; resolves to the process exit code. */
export async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'start':
        return await start(rest)
      case 'run': {
        const { runCommand } = await import('./run.ts')
        return await runCommand(rest)
      }
      case 'keys': {
        const { keysCommand } = await import('./keys.ts')
        return await keysCommand(rest)
      }
      case 'publish':
      case 'list':
      case 'yank':
      case 'inspect':
      case 'follow': {
        const registry = await import('./registry-commands.ts')
        const run = { publish: registry.publishCommand, list: registry.listCommand, yank: registry.yankCommand, inspect: registry.inspectCommand, follow: registry.followCommand }[command]
        return await run(rest)
      }
      case 'invoke': {
        const { invokeCommand } = await import('./invoke.ts')
        return await invokeCommand(rest)
      }
      case 'drive': return await (await import('./drive.ts')).driveCommand(rest)
      case 'verify-receipt': {
        const { verifyReceiptCommand } = await import('./verify-receipt.ts')
        return await verifyReceiptCommand(rest)
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(USAGE)
        return 0
      default:
        process.stderr.write(`shadw: unknown command ${JSON.stringify(command)}\n\n${USAGE}`)
        return 2
    }
  } catch (err) {
    return fail(err)
  }
}

/** Prints a typed error the way operators read it: code first, then what to do. */
function fail (err: unknown): number {
  if (err instanceof ShadwError) {
    process.stderr.write(`shadw: ${err.message}\n`)
    return 1
  }
  if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) {
    process.stderr.write(`shadw: ${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  process.stderr.write(`shadw: INTERNAL: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  return 1
}

async function start (args: string[]): Promise<number> {
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
      verbose: { type: 'boolean', default: false }
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

  const node = await SuperNode.start({
    storage: values.storage,
    appRoot: values.app,
    port,
    host: values.host,
    bootstrap: values.bootstrap?.split(',').filter(Boolean),
    public: values.public,
    webrtc: values.webrtc,
    tier,
    ...(workers === undefined ? {} : { workers })
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
    `  webrtc:     ${values.webrtc ? 'takes direct links from browsers' : 'off (--webrtc to take direct links from browsers)'}`,
    `  storage:    ${values.storage}`,
    'press Ctrl-C to stop',
    ''
  ].join('\n'))

  await stopSignal
  process.stdout.write('stopping…\n')
  await node.stop()
  process.stdout.write('stopped\n')
  return 0
}
