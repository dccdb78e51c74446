import type { BridgeStatus, ContributedCall, ContributionStatus } from '../browser/bridge-protocol.ts'
import type { NodeClient } from './node-client.ts'
import { servingSuperNode, superKeys } from './super-nodes.ts'

/** How often the views refresh while the tab is visible. */
const REFRESH_MS = 1_000
/** Calls kept page-side for the charts (five minutes of history at most). */
const HISTORY_MS = 5 * 60_000

/** localStorage key of the last state the node reported, shown while it cannot be reached (offline). */
const SNAPSHOT_KEY = 'shadw.lastState'

/**
 * One refresh: node status and contribution figures, or why the node is not reachable.
 * `staleSince` is set when the figures are the last ones seen (node unreachable, e.g. offline).
 */
export type FeedState =
  | { ok: true, status: BridgeStatus, contribution: ContributionStatus, history: ContributedCall[], superKeys: Set<string>, staleSince?: number, error?: Error }
  | { ok: false, error: Error }

/**
 * Polls the origin's node once a second for every view (one poll, many listeners) and keeps
 * the recent calls it has seen, asking the node only for newer ones. A hidden tab does not
 * poll: nothing would be drawn, and the node keeps working without the page.
 */
export class NodeFeed {
  readonly #client: NodeClient
  readonly #listeners = new Set<(state: FeedState) => void>()
  #history: ContributedCall[] = []
  #timer: ReturnType<typeof setInterval> | null = null
  #serving: string | null = null
  last: FeedState | null = null

  constructor (client: NodeClient) {
    this.#client = client
  }

  start (): void {
    if (this.#timer !== null) return
    servingSuperNode().then(k => { this.#serving = k }, () => {})
    this.refresh().catch(() => {})
    this.#timer = setInterval(() => { if (!document.hidden) this.refresh().catch(() => {}) }, REFRESH_MS)
    document.addEventListener('visibilitychange', () => { if (!document.hidden) this.refresh().catch(() => {}) })
  }

  on (listener: (state: FeedState) => void): void {
    this.#listeners.add(listener)
    if (this.last !== null) listener(this.last)
  }

  /** Refreshes now (after a user action, so its effect shows without waiting for the tick). */
  async refresh (): Promise<void> {
    let state: FeedState
    try {
      const since = this.#history.at(-1)?.at ?? 0
      const [status, contribution] = await Promise.all([
        this.#client.call('status', {}, 5_000),
        this.#client.call('contribution', { since }, 5_000)
      ])
      // a new node worker (hand-over, restart) starts its counters again
      if (contribution.totals.calls < this.#history.length) this.#history = []
      const cutoff = Date.now() - HISTORY_MS
      this.#history = [...this.#history, ...contribution.recent].filter(c => c.at > cutoff)
      state = { ok: true, status, contribution, history: this.#history, superKeys: superKeys(contribution.executors, this.#serving) }
      saveSnapshot(status, contribution)
    } catch (err) {
      const snap = loadSnapshot()
      state = snap === null
        ? { ok: false, error: err as Error }
        : { ok: true, status: snap.status, contribution: snap.contribution, history: [], superKeys: superKeys(snap.contribution.executors, null), staleSince: snap.at, error: err as Error }
    }
    this.last = state
    for (const l of this.#listeners) l(state)
  }
}

function saveSnapshot (status: BridgeStatus, contribution: ContributionStatus): void {
  try {
    localStorage.setItem(SNAPSHOT_KEY, JSON.stringify({ at: Date.now(), status, contribution: { ...contribution, recent: [] } }))
  } catch {}
}

function loadSnapshot (): { at: number, status: BridgeStatus, contribution: ContributionStatus } | null {
  try {
    const snap = JSON.parse(localStorage.getItem(SNAPSHOT_KEY) ?? 'null') as { at?: unknown, status?: BridgeStatus, contribution?: ContributionStatus } | null
    if (snap === null || typeof snap.at !== 'number' || typeof snap.status?.publicKey !== 'string' || !Array.isArray(snap.status.peers) || !Array.isArray(snap.status.logs) || typeof snap.contribution?.totals?.calls !== 'number' || !Array.isArray(snap.contribution.executors)) return null
    // peers from a snapshot are not connected now
    // snapshots saved before browsers could be light have no tier or signing figures
    return { at: snap.at, status: { ...snap.status, peers: [] }, contribution: { ...snap.contribution, tier: snap.contribution.tier ?? snap.status.tier, signing: snap.contribution.signing ?? null, recent: [], executors: [] } }
  } catch {
    return null
  }
}
