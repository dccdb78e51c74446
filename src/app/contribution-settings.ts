/** The node worker's cap (`MAX_TAB_WORKERS` in src/browser/invoke-host.ts; not imported: it would pull the executor into the page bundle). */
const MAX_TAB_WORKERS = 16

/** localStorage key of the contributor's choice; survives reloads and leader hand-overs. */
const KEY = 'shadw.contribute'

/**
 * The contributor's standing choice: opted in with a budget of `workers`, or not, and as
 * which tier — shadow (execute functions for tenants) or light (verify and co-sign receipts).
 */
export interface ContributionChoice {
  optedIn: boolean
  workers: number
  tier: 'light' | 'shadow'
}

/** Default tier: shadow, what the opt-in meant before a browser could pick light. */
export const DEFAULT_TIER = 'shadow'

/** Default budget: one worker, so a first opt-in never takes more than a core. */
export const DEFAULT_WORKERS = 1

/**
 * Most workers the budget slider offers: one per core, never above the tab cap. The default
 * stays at one; giving every core is the contributor's explicit choice.
 */
export function maxWorkers (): number {
  return Math.max(1, Math.min(MAX_TAB_WORKERS, navigator.hardwareConcurrency ?? 1))
}

export function loadChoice (): ContributionChoice {
  try {
    const raw = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Partial<ContributionChoice> | null
    if (raw !== null && typeof raw.optedIn === 'boolean' && Number.isInteger(raw.workers)) {
      // a choice saved before the tier existed is a shadow contributor's
      const tier = raw.tier === 'light' ? 'light' : DEFAULT_TIER
      return { optedIn: raw.optedIn, workers: Math.min(maxWorkers(), Math.max(1, raw.workers as number)), tier }
    }
  } catch {}
  return { optedIn: false, workers: DEFAULT_WORKERS, tier: DEFAULT_TIER }
}

export function saveChoice (choice: ContributionChoice): void {
  try { localStorage.setItem(KEY, JSON.stringify(choice)) } catch {}
}

/** localStorage key of the disk the contributor offers for pinned drives (bytes; absent or 0: none). */
const DISK_KEY = 'shadw.disk'

/** The disk offered, bytes: read when this tab starts a node. */
export function loadDiskOffer (): number {
  try {
    const v = Number(localStorage.getItem(DISK_KEY) ?? '0')
    return Number.isSafeInteger(v) && v > 0 ? v : 0
  } catch {
    return 0
  }
}

export function saveDiskOffer (bytes: number): void {
  try { localStorage.setItem(DISK_KEY, String(Math.max(0, Math.floor(bytes)))) } catch {}
}
