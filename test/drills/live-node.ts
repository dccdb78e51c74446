/**
 * A `shadw start` subprocess for drills: started on a storage, read from its banner, measured
 * from /proc (resident size, descriptors), stopped by signal or killed; and a publisher on its
 * DHT with an echo function, so a drill can make normal invocations through its gateway.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwNode } from '../../src/core/node/shadw-node.ts'
import { createPublisherKeyPair, Registry } from '../../src/core/registry/index.ts'
import { parseBootstrap } from '../../src/super-node/super-node.ts'
import { eventually, within } from './drill.ts'

const BIN = fileURLToPath(new URL('../../bin/shadw.js', import.meta.url))
/** Bound on a start (DHT bootstrap, storage). */
const START_MS = 30_000

/** A running `shadw start`. */
export interface LiveNode {
  child: ChildProcess
  appUrl: string
  port: number
  bootstrap: string[]
  ledgerKey: string
  stdout (): string
  stderr (): string
  exit: Promise<number | null>
}

/** Starts `shadw start` on `storage` and waits for its banner; `debug`: its SHADW_DEBUG namespaces (logged to its stderr). */
export async function startLive (storage: string, extra: string[] = [], opts: { workers?: number, debug?: string } = {}): Promise<LiveNode> {
  const child = spawn(process.execPath, [BIN, 'start', '--port', '0', '--storage', storage, '--workers', String(opts.workers ?? 1), ...extra], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SHADW_DEBUG: opts.debug ?? '' } })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const exit = new Promise<number | null>(resolve => { child.on('exit', code => { resolve(code) }) })
  const up = await eventually(() => out.includes('press Ctrl-C to stop') || child.exitCode !== null, START_MS)
  if (!up || !out.includes('press Ctrl-C to stop')) {
    child.kill('SIGKILL')
    throw new Error(`shadw start did not come up: ${err.slice(0, 500)}`)
  }
  const appUrl = /app:\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1] ?? ''
  return {
    child,
    appUrl,
    port: Number(new URL(appUrl).port),
    bootstrap: (/bootstrap:\s+(\S+)/.exec(out)?.[1] ?? '').split(','),
    ledgerKey: /ledger ([0-9a-f]{64})/.exec(out)?.[1] ?? '',
    stdout: () => out,
    stderr: () => err,
    exit
  }
}

/** SIGTERM, then the exit code (or 'hung' after `ms`). */
export async function stopLive (node: LiveNode, ms = 30_000): Promise<number | null | 'hung'> {
  node.child.kill('SIGTERM')
  const code = await Promise.race([node.exit, new Promise<'hung'>(resolve => setTimeout(() => { resolve('hung') }, ms))])
  if (code === 'hung') node.child.kill('SIGKILL')
  return code
}

/** SIGKILL, once it is gone. */
export async function killLive (node: LiveNode): Promise<void> {
  node.child.kill('SIGKILL')
  await node.exit
}

/** Resident set size of the node's process, MiB. */
export function rssMiB (node: LiveNode): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${node.child.pid ?? 0}/status`, 'utf8'))
  return Math.round(Number(m?.[1] ?? 0) / 1024)
}

/** Open descriptors of the node's process. */
export function fds (node: LiveNode): number {
  return readdirSync(`/proc/${node.child.pid ?? 0}/fd`).length
}

/** A publisher node on the live node's DHT with an echo function; `ref` calls it. */
export async function echoPublisher (node: LiveNode, module: Uint8Array): Promise<{ ref: string, close (): Promise<void> }> {
  const dht = new HyperDHT({ bootstrap: parseBootstrap(node.bootstrap), host: '127.0.0.1', firewalled: false })
  const store = new Corestore(RAM.reusable())
  const n = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair: crypto.keyPair() }), store, tier: 'super' })
  await within(n.start(), START_MS, 'publisher start')
  const registry = await Registry.create(store, createPublisherKeyPair())
  await registry.publish(module, { name: 'echo', version: '1.0.0' })
  return {
    ref: `${registry.key}/echo@1.0.0`,
    close: async () => { await registry.close(); await n.stop(); await dht.destroy() }
  }
}

/** One normal invocation through the node's gateway: the output and the receipt's ledger index, or the error code. */
export async function invoke (node: LiveNode, ref: string, input: string, deadlineMs = 20_000): Promise<{ ok: true, output: string, receipt: unknown, ledger: { key: string, index: number } } | { ok: false, status: number, code: string }> {
  let res: Response
  try {
    res = await fetch(new URL(`/fn/${ref}`, node.appUrl), { method: 'POST', body: input, headers: { accept: 'application/json', 'shadw-deadline': String(deadlineMs) }, signal: AbortSignal.timeout(deadlineMs + 5_000) })
  } catch (err) {
    return { ok: false, status: 0, code: (err as Error).name }
  }
  const body = await res.json().catch(() => ({})) as { output?: string, receipts?: unknown[], ledgers?: Array<{ key: string, index: number }>, code?: string }
  if (res.status !== 200) return { ok: false, status: res.status, code: body.code ?? '' }
  return { ok: true, output: Buffer.from(body.output ?? '', 'base64').toString(), receipt: body.receipts?.[0], ledger: body.ledgers?.[0] ?? { key: '', index: -1 } }
}
