// Kept apart from chromium.ts, which imports vitest, so benches can share the same flags.

/** Debian's Chromium; playwright's own browser download cannot run on our machines. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

/**
 * Flags for headless Chromium as root with no network: no sandbox (root), and nothing that
 * phones home (background networking, component updates, sync, QUIC) so nothing waits on
 * a closed network. Loopback WebRTC needs its own flag.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection'
]
