/**
 * What each tier of the lite paper ("Consensus and Service Tiers") does, as configuration of
 * the one node: the same `ShadwNode`, endpoint and services, switched on or off. docs/pricing.md
 * has the table with the reasons.
 */
import { ShadwError } from '../errors.ts'
import type { NodeTier } from './types.ts'

/** The roles of one tier. */
export interface TierRoles {
  /** runs the DHT bootstrap and the WebSocket relay browsers reach the swarm through */
  relays: boolean
  /** keeps logs on persistent storage and serves followed registries and ledgers to others */
  stores: boolean
  /** executes functions for the swarm (signs priced receipts) */
  computes: boolean
  /** checks receipts and co-signs attestations (the light-node signing swarm) */
  signs: boolean
}

/** Every tier's roles. */
export const TIER_ROLES: Readonly<Record<NodeTier, Readonly<TierRoles>>> = {
  super: { relays: true, stores: true, computes: true, signs: false },
  storm: { relays: false, stores: true, computes: true, signs: false },
  light: { relays: false, stores: false, computes: false, signs: true },
  shadow: { relays: false, stores: false, computes: true, signs: false }
}

/** The tiers, highest first. */
export const NODE_TIERS: readonly NodeTier[] = ['super', 'storm', 'light', 'shadow']

/** Checks a tier name from a flag or a page. @throws ShadwError `INVALID_ARGUMENT` */
export function parseTier (value: unknown): NodeTier {
  if (typeof value === 'string' && (NODE_TIERS as readonly string[]).includes(value)) return value as NodeTier
  throw ShadwError.INVALID_ARGUMENT(`tier must be one of ${NODE_TIERS.join(', ')}, got ${JSON.stringify(value)}`)
}

/**
 * The tiers a running node may switch between: a browser contributor's choice of verifying
 * (light) or computing (shadow). Both dial on the network topic and look it up again on the
 * same schedule, so a switch changes only the signing topic; super and storm nodes differ in
 * more (network-topic mode, the super topic, rediscovery, relaying) and are set at start.
 */
export const SWITCHABLE_TIERS: readonly NodeTier[] = ['light', 'shadow']

/** True when a running node may switch to or from `tier` ({@link SWITCHABLE_TIERS}). */
export function isSwitchableTier (tier: unknown): boolean {
  return typeof tier === 'string' && (SWITCHABLE_TIERS as readonly string[]).includes(tier)
}
