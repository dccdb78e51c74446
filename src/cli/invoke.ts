/**
 * `shadw invoke <ref> [--input FILE|-] [--redundancy K] [--quorum Q] [--deadline MS]
 * [--max-charge µCREDITS] [--auth FILE] [--mount DRIVE[@VERSION|@latest][:FROM]::GUEST]...
 * [--grant GRANT.json]... [--block CHAIN=N]...
 * [--bootstrap host:port[,…] | --node URL] [--json]`: starts a light node on the
 * super node's DHT, invokes a function on the swarm and prints the output and the receipts.
 *
 * Without `--json` the output bytes go to stdout as they are and a receipt summary to
 * stderr, so the output pipes cleanly; with `--json` one JSON document (output as UTF-8 when
 * it is valid UTF-8, and always as base64; receipts in full) goes to stdout, which
 * `shadw verify-receipt` reads back.
 */
import { readFile } from 'node:fs/promises'
import { get as httpGet } from 'node:http'
import { get as httpsGet } from 'node:https'
import { parseArgs } from 'node:util'
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwError } from '../core/errors.ts'
import { log } from '../core/log.ts'
import { ShadwNode } from '../core/node/index.ts'
import { DEFAULT_INVOKE_DEADLINE_MS, InvokeEndpoint, isExecutor, MAX_INPUT_BYTES, type InvokeResult } from '../core/invoke/index.ts'
import { DEFAULT_PORT, parseBootstrap } from '../super-node/super-node.ts'
import { withProgress } from './progress.ts'
import { HEX_KEY_PATTERN } from '../core/hex.ts'
import { formatFunctionRef } from '../core/registry/index.ts'
import { MOUNT_FLAG_FORM, parseMountFlag, pinMountFlags, withStoreKeys } from './mount-flag.ts'
import type { MountKeyGrant, PinnedMount } from '../core/drive/index.ts'

/** A full reference starts with the publisher's key. */
const KEY_PREFIXED = new RegExp(`^${HEX_KEY_PATTERN}/`)

/** Usage lines shown in `shadw help`. */
export const INVOKE_USAGE = `shadw invoke <PUBLISHER/NAME@RANGE> [--input FILE|-] [--redundancy K] [--quorum Q] [--deadline MS]
             [--max-charge µCREDITS] [--auth FILE.json] [${MOUNT_FLAG_FORM}]... [--grant GRANT.json]...
             [--block CHAIN=N]... [--bootstrap host:port[,…] | --node URL] [--json]`

const debug = log('invoke')

/** Auth files are a Lit AuthSig (SIWE message + signature): a few KiB at most. */
const MAX_AUTH_FILE_BYTES = 16 * 1024

/** Where the command reads and writes; tests pass their own. */
export interface InvokeIo {
  stdout (bytes: Uint8Array | string): void
  stderr (text: string): void
  readStdin (): Promise<Uint8Array>
}

const processIo: InvokeIo = {
  stdout: b => { process.stdout.write(b) },
  stderr: t => { process.stderr.write(t) },
  readStdin: async () => {
    const chunks: Buffer[] = []
    let size = 0
    for await (const c of process.stdin) {
      size += (c as Buffer).byteLength
      if (size > MAX_INPUT_BYTES) throw ShadwError.INPUT_TOO_LARGE(size, MAX_INPUT_BYTES)
      chunks.push(c as Buffer)
    }
    return new Uint8Array(Buffer.concat(chunks))
  }
}

function positiveInt (flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) throw ShadwError.INVALID_ARGUMENT(`${flag} needs a positive integer, got ${JSON.stringify(value)}`)
  return Number(value)
}

/** Runs `shadw invoke`; resolves to the exit code. */
export async function invokeCommand (argv: string[], io: InvokeIo = processIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      input: { type: 'string' },
      redundancy: { type: 'string' },
      quorum: { type: 'string' },
      deadline: { type: 'string' },
      'max-charge': { type: 'string' },
      auth: { type: 'string' },
      mount: { type: 'string', multiple: true },
      grant: { type: 'string', multiple: true },
      block: { type: 'string', multiple: true },
      bootstrap: { type: 'string' },
      node: { type: 'string' },
      json: { type: 'boolean', default: false }
    },
    allowPositionals: true,
    strict: true
  })
  const [given, ...extra] = positionals
  if (given === undefined || extra.length > 0) throw ShadwError.INVALID_ARGUMENT(`usage: ${INVOKE_USAGE}`)
  // `name@range` is one of your own functions and an alias names someone's, as for inspect
  const ref = KEY_PREFIXED.test(given) || given.includes('/') ? given : formatFunctionRef(await (await import('./registry-commands.ts')).parseRef(given))
  if (values.bootstrap !== undefined && values.node !== undefined) throw ShadwError.INVALID_ARGUMENT('--bootstrap and --node exclude each other')
  const redundancy = positiveInt('--redundancy', values.redundancy, 1)
  const quorum = values.quorum === undefined ? undefined : positiveInt('--quorum', values.quorum, 1)
  const deadline = positiveInt('--deadline', values.deadline, DEFAULT_INVOKE_DEADLINE_MS)
  // µcredits per executor (docs/pricing.md); 0 is a valid cap (free executors only)
  const maxChargeArg = values['max-charge']
  if (maxChargeArg !== undefined && (!/^\d+$/.test(maxChargeArg) || !Number.isSafeInteger(Number(maxChargeArg)))) throw ShadwError.INVALID_ARGUMENT(`--max-charge needs a non-negative integer, got ${JSON.stringify(maxChargeArg)}`)
  const maxCharge = maxChargeArg === undefined ? undefined : Number(maxChargeArg)
  // malformed mounts are refused before any network
  const mountFlags = (values.mount ?? []).map(parseMountFlag)
  const grants = await readGrants(values.grant ?? [])
  const blocks = parseBlocks(values.block ?? [])
  if (grants.size > 0 && values.auth === undefined) throw ShadwError.INVALID_ARGUMENT('--grant needs --auth: the key holders release the drive\'s key to the executors only for a call whose auth unlocks it (shadw auth sign --unlock GRANT.json)')
  const input = await readInput(values.input, io)
  const auth = values.auth === undefined ? undefined : await readAuth(values.auth)
  const bootstrap = values.bootstrap !== undefined ? values.bootstrap.split(',').filter(Boolean) : await bootstrapOf(values.node ?? `http://127.0.0.1:${DEFAULT_PORT}/`)
  const started = Date.now()

  const client = await startLightNode(bootstrap)
  try {
    // a fresh light node hears executors one by one: asking k of them as soon as the first
    // answered leaves k-1 slots with nobody to pick (NO_EXECUTORS), so wait for k, within the
    // deadline; if fewer come the call says which slots failed and why
    await waitWithProgress(client.endpoint, redundancy, deadline, io)
    // "latest" is pinned here, once, the flags' and the manifest's alike, so every executor of
    // the call reads the same version and signs it into its receipt: the executors this node
    // is connected to say which drives the function mounts and the versions they know, and
    // this node checks both (the publisher's signature, the drives' signed logs). A private
    // drive's key comes from its --grant (the executors fetch it for the call) or the key store
    const flagGrants = new Map([...grants].filter(([d]) => mountFlags.some(f => f.drive === d)))
    const flagged = mountFlags.length === 0 ? undefined : await pinMountFlags(client.node, mountFlags, undefined, flagGrants)
    // and, for a redundant call without --block, one block per chain its conditions read, from the same answers
    const pins = await client.endpoint.pinCall(ref, flagged, { budgetMs: Math.floor(Math.max(1, deadline - (Date.now() - started)) / 2), blocks: blocks === undefined && redundancy > 1 })
    const pinned = pins.mounts
    const callBlocks = blocks ?? pins.blocks
    for (const d of grants.keys()) if (!(pinned ?? []).some(m => m.drive === d)) throw ShadwError.MOUNT_INVALID(`--grant is for drive ${d}, which neither a --mount nor the function's manifest mounts`)
    const granted = pinned?.map((m): PinnedMount => { const g = grants.get(m.drive); return g === undefined || m.keyGrant !== undefined || m.encryptionKey !== undefined ? m : { ...m, keyGrant: g } })
    const mounts = granted === undefined ? undefined : await withStoreKeys(granted)
    const left = Math.max(1, deadline - (Date.now() - started))
    const result = await client.endpoint.invoke(ref, input, { redundancy, deadline: left, pinManifest: false, ...(quorum === undefined ? {} : { quorum }), ...(auth === undefined ? {} : { auth }), ...(callBlocks === undefined ? {} : { blocks: callBlocks }), ...(maxCharge === undefined ? {} : { maxCharge }), ...(mounts === undefined ? {} : { mounts }) })
      .catch(async (err: unknown) => { throw await (await import('./invoke-not-found.ts')).withCloseNames(err, ref, values.bootstrap !== undefined ? null : values.node ?? `http://127.0.0.1:${DEFAULT_PORT}/`) })
    if (values.json) io.stdout(JSON.stringify(toJson(ref, result), null, 2) + '\n')
    else {
      io.stdout(result.output)
      io.stderr(summary(result))
    }
    return 0
  } finally {
    await client.stop()
  }
}

/**
 * Waits for one executor within `timeoutMs` (TIMEOUT when none comes), then for `n` within
 * half the time left; with fewer, the call goes ahead and reports the slots it could not fill.
 */
async function waitWithProgress (endpoint: InvokeEndpoint, n: number, timeoutMs: number, io: InvokeIo): Promise<void> {
  const label = (): string => `connecting to executors (${endpoint.peers().filter(isExecutor).length} of ${n})`
  const wait = async (p: { set (l: string): void }): Promise<void> => {
    const tick = setInterval(() => { p.set(label()) }, 200)
    try {
      const started = Date.now()
      await endpoint.waitForExecutors(1, { timeoutMs })
      // half of what is left at most: a swarm with fewer than n executors can still reach a
      // quorum, and the call needs time of its own
      const left = Math.floor((timeoutMs - (Date.now() - started)) / 2)
      if (n > 1 && left > 0) await endpoint.waitForExecutors(n, { timeoutMs: left }).catch(() => {})
      debug('waited', Date.now() - started, 'ms for executors:', endpoint.peers().filter(isExecutor).length, 'of', n)
    } finally {
      clearInterval(tick)
    }
  }
  if (io !== processIo) return await wait({ set: () => {} })
  await withProgress(label(), wait)
}

/**
 * `--block CHAIN=N` pins: every executor of the call reads the conditions on CHAIN at block N
 * (each still refuses a block ahead of its head or too far behind it) and signs it into its
 * receipt, so redundant executors decide alike right at a balance change.
 */
function parseBlocks (pins: string[]): Record<string, bigint> | undefined {
  if (pins.length === 0) return undefined
  const out: Record<string, bigint> = {}
  for (const pin of pins) {
    const m = /^([A-Za-z0-9]{1,32})=(0|[1-9]\d{0,19})$/.exec(pin)
    if (m === null) throw ShadwError.INVALID_ARGUMENT(`--block ${JSON.stringify(pin.slice(0, 80))} is not CHAIN=BLOCK (a chain as Lit names it, a block number)`)
    if ((m[1] as string) in out) throw ShadwError.INVALID_ARGUMENT(`two --block pins for ${m[1] as string}`)
    out[m[1] as string] = BigInt(m[2] as string)
  }
  return out
}

/** `--grant` files by the drive each is for (one grant per drive). */
async function readGrants (paths: string[]): Promise<Map<string, MountKeyGrant>> {
  const out = new Map<string, MountKeyGrant>()
  if (paths.length === 0) return out
  const { loadGrant } = await import('./drive-grant.ts')
  for (const path of paths) {
    const g = await loadGrant(path)
    if (out.has(g.drive)) throw ShadwError.INVALID_ARGUMENT(`two --grant files for drive ${g.drive}`)
    out.set(g.drive, { keyId: g.keyId, dealer: g.dealer, threshold: g.threshold, holders: Object.keys(g.holders) })
  }
  return out
}

async function readInput (path: string | undefined, io: InvokeIo): Promise<Uint8Array> {
  if (path === undefined) return new Uint8Array(0)
  if (path === '-') return await io.readStdin()
  const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => { throw ShadwError.INVALID_ARGUMENT(`cannot read --input ${path}: ${err.code ?? err.message}`) })
  if (bytes.byteLength > MAX_INPUT_BYTES) throw ShadwError.INPUT_TOO_LARGE(bytes.byteLength, MAX_INPUT_BYTES)
  return new Uint8Array(bytes)
}

async function readAuth (path: string): Promise<unknown> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => { throw ShadwError.INVALID_ARGUMENT(`cannot read --auth ${path}: ${err.code ?? err.message}`) })
  if (text.length > MAX_AUTH_FILE_BYTES) throw ShadwError.AUTH_MALFORMED(`auth file is larger than ${MAX_AUTH_FILE_BYTES} bytes`)
  try {
    return JSON.parse(text)
  } catch {
    throw ShadwError.AUTH_MALFORMED('auth file is not JSON')
  }
}

/** The DHT bootstrap a super node reports at `/api/status`. */
export async function bootstrapOf (url: string): Promise<string[]> {
  let status: unknown
  try {
    status = JSON.parse(await getText(new URL('/api/status', url), STATUS_TIMEOUT_MS))
  } catch (err) {
    throw ShadwError.BOOTSTRAP_UNREACHABLE([url], err)
  }
  const b = (status as { bootstrap?: unknown } | null)?.bootstrap
  if (!Array.isArray(b) || b.length === 0 || !b.every(x => typeof x === 'string')) throw ShadwError.BOOTSTRAP_UNREACHABLE([url])
  return b as string[]
}

/** How long `--node`'s status request may take. */
const STATUS_TIMEOUT_MS = 5_000
/** Largest status answer read: a node's status lists its logs, never megabytes. */
const MAX_STATUS_BYTES = 4 * 1024 * 1024

/**
 * GETs `url` with Node's own HTTP client, not fetch(): the fetch standard refuses "bad
 * ports" (4190, 6000, …) a super node may well listen on, and says nothing of why.
 */
function getText (url: URL, timeoutMs: number): Promise<string> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(ShadwError.INVALID_ARGUMENT(`--node must be an http(s) URL, got ${url.protocol}`))
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsGet : httpGet)(url, { timeout: timeoutMs }, res => {
      if (res.statusCode !== 200) {
        res.resume()
        reject(new Error(`HTTP ${res.statusCode ?? '?'} from ${url.href}`))
        return
      }
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (d: Buffer) => {
        size += d.byteLength
        if (size > MAX_STATUS_BYTES) { req.destroy(new Error(`status answer over ${MAX_STATUS_BYTES} bytes`)); return }
        chunks.push(d)
      })
      res.on('end', () => { resolve(Buffer.concat(chunks).toString('utf8')) })
      res.on('error', reject)
    })
    req.on('timeout', () => { req.destroy(ShadwError.TIMEOUT(`GET ${url.href}`, timeoutMs)) })
    req.on('error', reject)
  })
}

/** A light node on the DHT of `bootstrap` with in-memory storage (also `shadw run --mount`'s). */
export async function startLightNode (bootstrap: string[]): Promise<{ node: ShadwNode, endpoint: InvokeEndpoint, stop (): Promise<void> }> {
  const entries = parseBootstrap(bootstrap)
  // a DHT on loopback needs every node bound to 127.0.0.1 (see super-node.ts)
  const loopback = entries.every(e => e.host === '127.0.0.1' || e.host === 'localhost')
  const dht = new HyperDHT(loopback ? { bootstrap: entries, host: '127.0.0.1' } : { bootstrap: entries })
  const swarm = new Hyperswarm({ dht, keyPair: crypto.keyPair() })
  const node = new ShadwNode({ swarm, store: new Corestore(RAM.reusable()), tier: 'light' })
  // its calls pin their functions' "latest" mounts, checked against the drives' logs here
  const endpoint = new InvokeEndpoint({ host: node, tier: 'light', drives: node })
  endpoint.start()
  try {
    await node.start()
  } catch (err) {
    endpoint.stop()
    await node.stop().catch(() => {})
    await dht.destroy()
    throw err
  }
  return {
    node,
    endpoint,
    stop: async () => {
      endpoint.stop()
      await node.stop()
      await dht.destroy()
    }
  }
}

function toJson (ref: string, r: InvokeResult): Record<string, unknown> {
  const text = utf8(r.output)
  return {
    ref,
    ...(text === null ? {} : { output: text }),
    outputBase64: b4a.toString(r.output, 'base64'),
    receipts: r.receipts,
    ledgers: r.ledgers,
    dissenters: r.dissenters,
    failures: r.failures,
    attempts: r.attempts
  }
}

function utf8 (bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return null
  }
}

function summary (r: InvokeResult): string {
  const lines = [`\naccepted by ${r.receipts.length} executor(s) after ${r.attempts} attempt(s)`]
  for (const [i, rc] of r.receipts.entries()) {
    lines.push(`  receipt ${rc.executor.slice(0, 16)}… fuel ${rc.fuel} output ${rc.outputHash.slice(0, 16)}… ledger ${r.ledgers[i]?.key.slice(0, 16)}…#${r.ledgers[i]?.index}`)
  }
  for (const d of r.dissenters) lines.push(`  DISSENT ${d.executor.slice(0, 16)}… output ${d.outputHash.slice(0, 16)}… fuel ${d.fuel}`)
  for (const f of r.failures) lines.push(`  failed ${f.executor?.slice(0, 16) ?? '(none)'}: ${f.message}`)
  return lines.join('\n') + '\n'
}
