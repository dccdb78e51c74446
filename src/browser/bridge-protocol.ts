import type { DriveReply } from '../core/drive/index.ts'
import { ShadwError, type SerializedError } from '../core/errors.ts'
import type { DownloadResult, LogInfo, NodeStatus, NodeTier } from '../core/node/index.ts'
import type { FunctionManifest } from '../core/registry/index.ts'
import type { QuorumDecision } from '../core/invoke/index.ts'
import type { WireInvokeOptions } from '../core/gateway/index.ts'
import type { SignedReceipt } from '../core/ledger/index.ts'
import type { SigningStats } from '../core/attest/index.ts'
import type { PublishOptions, SignedManifest } from '../core/registry/index.ts'
import { describeValue } from '../core/describe.ts'
import type { DriveStatus, HoldConfirmation, HolderProof, PinRequest } from '../core/pinning/index.ts'
import type { OwnedDriveInfo } from './drive-host.ts'

/**
 * The bridge between the origin's contexts (tabs, the service worker) and the one node
 * worker that the leader tab hosts. It runs over a BroadcastChannel: every context of the
 * origin can post to it, whichever tab hosts the node, and a hand-over to a new leader tab
 * needs no re-wiring.
 */
export const BRIDGE_CHANNEL = 'shadw-node-v1'

/** Web Lock held by the tab that hosts the node: one node per origin. */
export const LEADER_LOCK = 'shadw-node-leader'

/** Largest request a context may send (blocks travel in it): 16 MiB. */
export const MAX_BRIDGE_MESSAGE_BYTES = 16 * 1024 * 1024

/** The calls the node answers, with their parameters and results. */
export interface BridgeMethods {
  status: { params: Record<string, never>, result: BridgeStatus }
  createLog: { params: { name: string }, result: LogInfo }
  follow: { params: { key: string }, result: LogInfo }
  append: { params: { key: string, blocks: Uint8Array[] }, result: { length: number } }
  get: { params: { key: string, index: number, wait?: boolean, timeout?: number }, result: { block: Uint8Array | null } }
  has: { params: { key: string, index: number }, result: { has: boolean } }
  waitForLength: { params: { key: string, length: number, timeout: number }, result: { length: number } }
  /** makes blocks [start, end) local in one range request: a `get` per block would time the bridge */
  download: { params: { key: string, start?: number, end?: number, timeout?: number }, result: DownloadResult }
  loadFunction: { params: { ref: string }, result: LoadedFunctionInfo }
  /** invokes a function on the swarm (see docs/protocol.md, "Invocation channel") */
  invoke: { params: InvokeParams, result: InvokeAnswer }
  /**
   * the contributor's switch: contribute with `workers` Web Workers from now on (0: stop at
   * once), as `tier` (default: unchanged) — shadow executes for tenants, light co-signs receipts
   */
  contribute: { params: { workers: number, tier?: 'light' | 'shadow' }, result: ContributionStatus }
  /** what this node executed for the swarm (calls finished after `since`, ms since the epoch) */
  contribution: { params: { since?: number }, result: ContributionStatus }
  /** publishes a module into this browser's own registry (its key stays in the node's storage) */
  publish: { params: PublishParams, result: { ref: string, signed: SignedManifest } }
  /** this browser's publisher key (= its registry's log key), hex */
  publisher: { params: Record<string, never>, result: { key: string } }
  /** one window of a `/drive/*` answer from the node, for the service worker (docs/storage.md) */
  driveFetch: { params: { url: string, method: 'GET' | 'HEAD', range?: string, ifNoneMatch?: string }, result: DriveReply }
  /** the drives this browser owns (their secret keys stay in its key store), newest first */
  drives: { params: Record<string, never>, result: { drives: OwnedDriveInfo[] } }
  /** creates a drive owned by this browser; `encrypt`: holders store ciphertext only */
  driveCreate: { params: { encrypt?: boolean, label?: string }, result: OwnedDriveInfo }
  /** starts streaming one file into an owned drive, then `driveUploadChunk` each chunk in turn and `driveUploadEnd` */
  driveUploadStart: { params: { key: string, path: string }, result: { upload: string } }
  /** one chunk (at most 4 MiB); answered once the drive took it, so one chunk is in flight at a time */
  driveUploadChunk: { params: { upload: string, chunk: Uint8Array }, result: { bytes: number } }
  driveUploadEnd: { params: { upload: string }, result: { path: string, size: number, version: number } }
  driveUploadAbort: { params: { upload: string }, result: { aborted: boolean } }
  /** pins an owned drive's latest version on `replicas` holders; answered once they confirmed, signed */
  drivePin: { params: { key: string, replicas?: number, timeout?: number }, result: { drive: string, replicas: number, logs: PinRequest['logs'], confirmations: HoldConfirmation[] } }
  /** codes an owned drive's latest version K+M (`scheme`, e.g. `2+1`), streamed stripe by stripe, onto K+M shard holders; answered once each signed its shard hold */
  drivePinErasure: { params: { key: string, scheme: string, timeout?: number }, result: { drive: string, k: number, m: number, size: number, stripes: number, root: string, holds: Array<{ shard: number, holder: string }> } }
  /** a drive's holders and health, as the holders on the swarm report them */
  driveStatus: { params: { key: string }, result: DriveStatus & { proofs: HolderProof[] } }
}

/** What a page asks to publish: the registry's options plus the module bytes (a type literal: bridge params are records). */
export type PublishParams = {
  module: Uint8Array
  name: string
  version: string
  abi?: PublishOptions['abi']
  limits?: PublishOptions['limits']
  access?: unknown[]
  authDomains?: string[]
  description?: string
  readme?: string
  examples?: PublishOptions['examples']
}

/** One execution this node ran for the swarm, as the dashboard shows it. */
export interface ContributedCall {
  /** ms since the epoch when it finished */
  at: number
  ok: boolean
  fuel: number
  /** wall-clock ms in the executor worker (display only) */
  ms: number
  /** error code when it failed */
  code?: string
}

/** Running totals since the node worker started. */
export interface ContributionTotals {
  calls: number
  ok: number
  failed: number
  fuel: number
  cpuMs: number
  /** µcredits of the receipts this node signed (10⁶ per credit; docs/pricing.md), its ledger before this start included */
  earned: number
}

/** What the dashboard reads: the contributor's setting, its totals and recent calls. */
export interface ContributionStatus {
  /** the tier the node serves as now: light (verify and co-sign) or shadow (compute) */
  tier: NodeTier
  /** workers now running (executors for shadow, re-execution for light); 0: not contributing (never opted in, paused or stopped) */
  workers: number
  /** the signing service's counts while the node is light and contributing; null otherwise */
  signing: SigningStats | null
  /** cores the browser reports (the budget's scale) */
  cores: number
  totals: ContributionTotals
  /** calls finished after `since` (the dashboard asks for what it has not seen) */
  recent: ContributedCall[]
  /** how calls' drive mounts are read while this node executes; null otherwise */
  mounts: { sharedMemory: boolean, bytesFetched: number } | null
  /** executors this node knows on the swarm: key, tier, free/total slots, rtt, dissents */
  executors: Array<{ key: string, tier: string | null, free: number, total: number, rtt: number | null, dissents: number }>
}

/**
 * One invocation asked of the origin's node: the function, its input and the invocation's
 * options (checked by `checkInvokeOptions`). `nonce` (32 bytes, default random) is the one
 * option only the bridge carries: an app retrying a call idempotently reuses it, and
 * executors refuse a replay.
 */
export type InvokeParams = { ref: string, input: Uint8Array } & WireInvokeOptions

/** An accepted invocation, as it crosses the bridge. */
export interface InvokeAnswer extends QuorumDecision {
  receipts: SignedReceipt[]
  attempts: number
}

export type BridgeMethod = keyof BridgeMethods

/**
 * A function the node fetched and verified (signature, publisher, hash, limits, not yanked).
 * The module bytes stay in the node worker: pages get what they need to show and decide.
 */
export interface LoadedFunctionInfo {
  /** `<publisher>/<name>@<exact version>` the range resolved to */
  ref: string
  manifest: FunctionManifest
  /** publisher's signature over the manifest, hex */
  signature: string
  /** where the verified bytes came from this time */
  source: 'cache' | 'blob-log'
}

/** Node status plus what only the browser host knows. */
export interface BridgeStatus extends NodeStatus {
  relay: { url: string, state: 'connecting' | 'connected' | 'disconnected', reconnects: number }
  storage: 'opfs' | 'memory'
  /** id of the tab hosting the node */
  leader: string
}

export interface BridgeRequest<M extends BridgeMethod = BridgeMethod> {
  type: 'request'
  id: string
  method: M
  params: BridgeMethods[M]['params']
}

export interface BridgeResponse {
  type: 'response'
  id: string
  ok: boolean
  result?: unknown
  error?: SerializedError
}

/** Pushed by the node to every context. */
export interface BridgeEvent {
  type: 'event'
  name: 'ready' | 'append' | 'peer' | 'relay' | 'stopped'
  data: unknown
}

export type BridgeMessage = BridgeRequest | BridgeResponse | BridgeEvent

const METHODS: ReadonlySet<string> = new Set<BridgeMethod>(['status', 'createLog', 'follow', 'append', 'get', 'has', 'waitForLength', 'download', 'loadFunction', 'invoke', 'contribute', 'contribution', 'publish', 'publisher', 'driveFetch', 'drives', 'driveCreate', 'driveUploadStart', 'driveUploadChunk', 'driveUploadEnd', 'driveUploadAbort', 'drivePin', 'drivePinErasure', 'driveStatus'])

/**
 * Validates a message that arrived on the channel. Anything from another context is input:
 * a buggy or stale tab (an older app version) must not crash the node.
 */
export function parseBridgeMessage (data: unknown): BridgeMessage {
  if (typeof data !== 'object' || data === null) throw ShadwError.BRIDGE_PROTOCOL('message is not an object')
  const m = data as Record<string, unknown>
  if (typeof m['id'] === 'string' && m['id'].length > 128) throw ShadwError.BRIDGE_PROTOCOL('id too long')
  switch (m['type']) {
    case 'request': {
      if (typeof m['id'] !== 'string' || typeof m['method'] !== 'string' || !METHODS.has(m['method'])) {
        throw ShadwError.BRIDGE_PROTOCOL('request needs a string id and a known method')
      }
      if (typeof m['params'] !== 'object' || m['params'] === null) throw ShadwError.BRIDGE_PROTOCOL('request params must be an object')
      return { type: 'request', id: m['id'], method: m['method'] as BridgeMethod, params: m['params'] as BridgeMethods[BridgeMethod]['params'] }
    }
    case 'response':
      if (typeof m['id'] !== 'string' || typeof m['ok'] !== 'boolean') throw ShadwError.BRIDGE_PROTOCOL('response needs id and ok')
      return m as unknown as BridgeResponse
    case 'event':
      if (typeof m['name'] !== 'string') throw ShadwError.BRIDGE_PROTOCOL('event needs a name')
      return m as unknown as BridgeEvent
    default:
      throw ShadwError.BRIDGE_PROTOCOL(`unknown message type ${describeValue(m['type'])}`)
  }
}

/** Field checks shared by the node's request handlers. */
export const expect = {
  string (v: unknown, what: string, max = 256): string {
    if (typeof v !== 'string' || v.length === 0 || v.length > max) throw ShadwError.INVALID_ARGUMENT(`${what} must be a string of 1-${max} characters`)
    return v
  },
  index (v: unknown, what: string): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw ShadwError.INVALID_ARGUMENT(`${what} must be a non-negative integer`)
    return v
  },
  timeout (v: unknown, fallback: number, max: number): number {
    if (v === undefined) return fallback
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > max) throw ShadwError.INVALID_ARGUMENT(`timeout must be 0-${max} ms`)
    return v
  },
  blocks (v: unknown): Uint8Array[] {
    if (!Array.isArray(v) || !v.every(b => b instanceof Uint8Array)) throw ShadwError.INVALID_ARGUMENT('blocks must be an array of Uint8Array')
    const total = v.reduce((sum: number, b: Uint8Array) => sum + b.byteLength, 0)
    if (total > MAX_BRIDGE_MESSAGE_BYTES) throw ShadwError.INVALID_ARGUMENT(`blocks exceed ${MAX_BRIDGE_MESSAGE_BYTES} bytes in one call`)
    return v as Uint8Array[]
  }
}
