/**
 * Messages between an executor pool and its workers. Both directions are validated at
 * runtime: a worker trusts nothing the page sends, and the pool trusts nothing a worker
 * (which runs tenant code) sends back.
 */
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'
import type { Abi, ExecutionLimits } from './executor.ts'
import { MAX_MODULE_BYTES, resolveLimits } from './limits.ts'
import type { Preopen } from './wasi-fs-tree.ts'
import { MAX_LAZY_FILES, MAX_TREE_BYTES, parsePreopens, parseScratchBytes } from './wasi-preopens.ts'
import { isChannelBuffer } from './file-channel.ts'

/** A call as a worker receives it. `bytes` is sent only until the worker has the module. */
export interface WorkerRequest {
  hash: string
  bytes?: Uint8Array
  abi: Abi
  input: Uint8Array
  args: string[]
  env: string[]
  seed: number
  limits: ExecutionLimits
  /** WASI only: directory trees the module sees (omitted: none). */
  preopens?: Preopen[]
  scratchBytes?: number
  /** WASI only: the shared block the preopens' lazy files are fetched through (file-channel.ts). */
  files?: SharedArrayBuffer
  /** WASI only, instead of `files`: the lazy files' bytes by id, fetched before the call. */
  fileBytes?: Uint8Array[]
}

/** A worker's answer: a result, or a request for the module bytes it no longer caches. */
export type WorkerReply =
  | { kind: 'done', output: Uint8Array, fuelUsed: number, exitCode: number, stderr: Uint8Array, durationMs: number }
  | { kind: 'need-module' }

/** Most argv/env entries a call may pass to a WASI module. */
export const MAX_ARGS = 256
/** Longest single argv/env string. */
export const MAX_ARG_LENGTH = 4096

function isObject (v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null
}

function stringList (v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_ARGS) throw ShadwError.INVALID_ARGUMENT(`${what} must be an array of at most ${MAX_ARGS} strings`)
  for (const s of v) {
    if (typeof s !== 'string' || s.length > MAX_ARG_LENGTH) throw ShadwError.INVALID_ARGUMENT(`${what} entries must be strings of at most ${MAX_ARG_LENGTH} characters`)
  }
  return v as string[]
}

/** Validates a request arriving in a worker. */
export function parseWorkerRequest (v: unknown): WorkerRequest {
  if (!isObject(v)) throw ShadwError.INVALID_ARGUMENT('request must be an object')
  if (!isHexKey(v['hash'])) throw ShadwError.INVALID_ARGUMENT('hash must be 64 hex characters')
  if (v['bytes'] !== undefined && !(v['bytes'] instanceof Uint8Array)) throw ShadwError.INVALID_ARGUMENT('bytes must be a Uint8Array')
  if (v['bytes'] instanceof Uint8Array && v['bytes'].length > MAX_MODULE_BYTES) throw ShadwError.INVALID_MODULE('module too large')
  if (v['abi'] !== 'raw' && v['abi'] !== 'wasi') throw ShadwError.INVALID_ARGUMENT('abi must be "raw" or "wasi"')
  if (!(v['input'] instanceof Uint8Array)) throw ShadwError.INVALID_ARGUMENT('input must be a Uint8Array')
  const seed = v['seed']
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) throw ShadwError.INVALID_ARGUMENT('seed must be a non-negative safe integer')
  const limits = resolveLimits(v['limits'] as Partial<ExecutionLimits>)
  if (v['input'].length > limits.maxInputBytes) throw ShadwError.INPUT_TOO_LARGE(v['input'].length, limits.maxInputBytes)
  const req: WorkerRequest = {
    hash: v['hash'],
    abi: v['abi'],
    input: v['input'],
    args: stringList(v['args'], 'args'),
    env: stringList(v['env'], 'env'),
    seed,
    limits
  }
  if (v['bytes'] !== undefined) req.bytes = v['bytes']
  const preopens = parsePreopens(v['preopens'])
  if (preopens.length > 0) req.preopens = preopens
  const scratch = parseScratchBytes(v['scratchBytes'])
  if (scratch !== undefined) req.scratchBytes = scratch
  if (v['files'] !== undefined) {
    if (!isChannelBuffer(v['files'])) throw ShadwError.INVALID_ARGUMENT('files must be a channel SharedArrayBuffer')
    req.files = v['files']
  }
  if (v['fileBytes'] !== undefined) {
    const list = v['fileBytes']
    if (!Array.isArray(list) || list.length > MAX_LAZY_FILES || !list.every(b => b instanceof Uint8Array)) throw ShadwError.INVALID_ARGUMENT(`fileBytes must be at most ${MAX_LAZY_FILES} byte arrays`)
    if (list.reduce((n: number, b: Uint8Array) => n + b.length, 0) > MAX_TREE_BYTES) throw ShadwError.INVALID_ARGUMENT(`fileBytes hold more than ${MAX_TREE_BYTES} bytes`)
    req.fileBytes = list as Uint8Array[]
  }
  return req
}

/** Validates a reply arriving from a worker; anything malformed is an INTERNAL error. */
export function parseWorkerReply (v: unknown): WorkerReply {
  if (!isObject(v)) throw ShadwError.INTERNAL('worker sent a non-object reply')
  if (v['kind'] === 'need-module') return { kind: 'need-module' }
  if (v['kind'] !== 'done') throw ShadwError.INTERNAL('worker sent an unknown reply kind')
  const { output, fuelUsed, exitCode, durationMs } = v
  // workers omit an empty stderr: one typed array fewer to clone per call
  const stderr = v['stderr'] ?? new Uint8Array(0)
  if (!(output instanceof Uint8Array) || !(stderr instanceof Uint8Array)) throw ShadwError.INTERNAL('worker reply lacks output bytes')
  if (typeof fuelUsed !== 'number' || !Number.isSafeInteger(fuelUsed) || fuelUsed < 0) throw ShadwError.INTERNAL('worker reply has a bad fuelUsed')
  if (typeof exitCode !== 'number' || !Number.isInteger(exitCode)) throw ShadwError.INTERNAL('worker reply has a bad exitCode')
  if (typeof durationMs !== 'number' || !Number.isFinite(durationMs)) throw ShadwError.INTERNAL('worker reply has a bad durationMs')
  return { kind: 'done', output, fuelUsed, exitCode, stderr, durationMs }
}
