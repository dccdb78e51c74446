/**
 * `shadw drive status`: ask the holders met on the holders' topic what they know of a drive
 * (each answers with its own confirmation and its co-holders' latest), keep each holder's
 * newest checked confirmation, and judge health from their age: a holder heard from within
 * the grace period is live; `healthy` when the live ones reach the pinned replicas,
 * `degraded` when some are live but fewer, `lost` when none is.
 */
import { log } from '../log.ts'
import { verifyHold, type HoldConfirmation } from './hold-confirmation.ts'
import { DEFAULT_GRACE_MS } from './holder.ts'
import { holdersTopic, PinChannels } from './pin-protocol.ts'
import { DEFAULT_DISCOVER_MS, discoverHolders, type PinClientNode } from './pinner.ts'

const debug = log('pinning')

/** Longest wait for one holder's answer to a status query. */
const QUERY_TIMEOUT_MS = 5_000

/** Health of a drive's replicas. */
export type DriveHealth = 'healthy' | 'degraded' | 'lost'

/** One holder of a drive as status shows it. */
export interface DriveHolder {
  holder: string
  /** when it last signed a confirmation, ms since the epoch */
  confirmedAt: number
  live: boolean
  confirmation: HoldConfirmation
}

/** What `shadw drive status` reports. */
export interface DriveStatus {
  drive: string
  /** replicas the pin asked for (0: no holder knows the drive) */
  replicas: number
  health: DriveHealth
  holders: DriveHolder[]
}

/** Health from the live holders and the replicas wanted. */
export function healthOf (live: number, replicas: number): DriveHealth {
  if (live === 0) return 'lost'
  return live >= replicas ? 'healthy' : 'degraded'
}

/** Options of {@link driveStatus}. */
export interface DriveStatusOptions {
  node: PinClientNode
  drive: string
  /** a holder silent longer than this is not live, ms (default: the holders' `DEFAULT_GRACE_MS`) */
  graceMs?: number
  discoverMs?: number
  /** the clock (ms since the epoch) */
  now?: () => number
}

/** Asks the holders about `drive`; see the module comment. */
export async function driveStatus (opts: DriveStatusOptions): Promise<DriveStatus> {
  const channels = new PinChannels({ host: opts.node })
  channels.start()
  try {
    await opts.node.joinTopic(holdersTopic(), { server: false, client: true })
    const peers = await discoverHolders(channels, 1, opts.discoverMs ?? DEFAULT_DISCOVER_MS)
    const latest = new Map<string, HoldConfirmation>()
    let replicas = 0
    await Promise.all(peers.map(async peer => {
      try {
        const a = await peer.request({ type: 'query', drive: opts.drive }, QUERY_TIMEOUT_MS)
        if (a.type !== 'holders' || a.drive !== opts.drive) return
        replicas = Math.max(replicas, a.replicas)
        for (const v of a.confirmations) {
          let c: HoldConfirmation
          try { c = verifyHold(v) } catch { continue }
          if (c.drive !== opts.drive) continue
          const had = latest.get(c.holder)
          if (had === undefined || had.time < c.time) latest.set(c.holder, c)
        }
      } catch (err) {
        debug('status query failed', peer.publicKey.slice(0, 8), err)
      }
    }))
    const now = (opts.now ?? Date.now)()
    const grace = opts.graceMs ?? DEFAULT_GRACE_MS
    const holders = [...latest.values()]
      .map(c => ({ holder: c.holder, confirmedAt: c.time, live: now - c.time <= grace, confirmation: c }))
      .sort((a, b) => b.confirmedAt - a.confirmedAt)
    return { drive: opts.drive, replicas, health: healthOf(holders.filter(h => h.live).length, replicas), holders }
  } finally {
    channels.stop()
  }
}
