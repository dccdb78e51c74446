/**
 * The headers that make the app's pages cross-origin isolated, so they get SharedArrayBuffer
 * and `Atomics.wait` and the executor's workers read mounted drive files on demand instead of
 * fetching each one whole before a call (docs/storage.md, Mounts). The super node's app
 * server and Vite's dev and preview servers send the same ones.
 *
 * `require-corp` rather than `credentialless`: everything the app's documents and workers load
 * is same-origin (its assets, `/api`, `/fn`, `/drive`) or a CORS fetch (another super node's
 * gateway), WebSockets (the relay) and WebRTC are outside COEP, and the app embeds no
 * cross-origin frame, so the stricter policy breaks nothing, and Safari isolates only with it.
 * Tenants' pages call the gateway by CORS `fetch` and are untouched: COEP binds the document
 * that sends it, not the origins that call it.
 */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp'
}

/**
 * What the gateway's and drives' answers carry so a cross-origin isolated page (`require-corp`,
 * another super node's app, a tenant's isolated page) may still load them as a no-cors
 * `<img>`, `<video>` or script: they are public by design, so this allows nothing that a
 * page without COEP could not already do.
 */
export const SHARED_RESOURCE_HEADERS: Readonly<Record<string, string>> = {
  'cross-origin-resource-policy': 'cross-origin'
}
