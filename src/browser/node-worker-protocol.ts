import { ShadwError, type SerializedError } from '../core/errors.ts'
import type { NodeTier } from '../core/node/index.ts'
import type { BridgeStatus } from './bridge-protocol.ts'
import { validateRelayUrl } from './relay-connection.ts'
import { parseExecuteSettings, type ExecuteSettings } from './invoke-host.ts'
import { describeValue } from '../core/describe.ts'

/** The leader tab's one message to its node worker: what to start. */
export interface NodeWorkerInit {
  type: 'init'
  relayUrl: string
  /** OPFS directory holding this origin's node data */
  storageRoot: string
  leader: string
  tier: NodeTier
  /** log namespaces to enable in the worker (workers have no localStorage to read them from) */
  debug?: string
  /** the contributor opted in to execute functions for the swarm */
  execute?: ExecuteSettings
  /** the contributor opted in to hold pinned drives, up to this many bytes (capped by the origin's quota) */
  diskBudget?: number
}

/** The node worker's answer to its leader tab. */
export type NodeWorkerReply =
  | { type: 'started', status: BridgeStatus }
  | { type: 'failed', error: SerializedError }

const TIERS: ReadonlySet<string> = new Set<NodeTier>(['super', 'storm', 'light', 'shadow'])
const STORAGE_ROOT = /^[a-z0-9][a-z0-9-]{0,63}$/

/** Validates the init message before anything is opened. */
export function parseNodeWorkerInit (data: unknown): NodeWorkerInit {
  const m = data as Partial<NodeWorkerInit> | null
  if (m === null || typeof m !== 'object' || m.type !== 'init') throw ShadwError.BRIDGE_PROTOCOL('expected an init message')
  if (typeof m.storageRoot !== 'string' || !STORAGE_ROOT.test(m.storageRoot)) throw ShadwError.INVALID_ARGUMENT('storageRoot must be 1-64 of [a-z0-9-]')
  if (typeof m.leader !== 'string' || m.leader.length === 0 || m.leader.length > 128) throw ShadwError.INVALID_ARGUMENT('leader id must be 1-128 characters')
  const tier = m.tier ?? 'shadow'
  if (!TIERS.has(tier)) throw ShadwError.INVALID_ARGUMENT(`unknown tier ${describeValue(tier)}`)
  const debug = typeof m.debug === 'string' && m.debug.length <= 256 ? m.debug : undefined
  const execute = parseExecuteSettings(m.execute)
  const diskBudget = m.diskBudget
  if (diskBudget !== undefined && (!Number.isSafeInteger(diskBudget) || diskBudget < 0)) throw ShadwError.INVALID_ARGUMENT(`diskBudget must be a non-negative integer of bytes, got ${describeValue(diskBudget)}`)
  return { type: 'init', relayUrl: validateRelayUrl(m.relayUrl), storageRoot: m.storageRoot, leader: m.leader, tier, ...(debug === undefined ? {} : { debug }), ...(execute === undefined ? {} : { execute }), ...(diskBudget === undefined ? {} : { diskBudget }) }
}
