/// <reference lib="webworker" />
/**
 * The service worker: keeps the app shell so the app loads with the server down, and routes
 * messages from pages to the origin's node worker. It never hosts the swarm: Chromium stops an
 * idle service worker after about 30 s and it has no RTCPeerConnection.
 */
import { driveThroughNode, invokeThroughNode, routeNodeCall, SW_NODE_CALL } from '../src/browser/sw-router.ts'
import { FN_PREFIX, handleFnRequest } from '../src/core/gateway/index.ts'

declare const self: ServiceWorkerGlobalScope
// Replaced at build time by the shell-manifest plugin in vite.config.ts.
declare const __SHELL_FILES__: string[]
declare const __SHELL_VERSION__: string

const SHELL_FILES: string[] = __SHELL_FILES__
const CACHE = `shadw-shell-${__SHELL_VERSION__}`
/** How long a navigation waits for the network before the cached shell is served. */
const NAVIGATION_TIMEOUT_MS = 3_000

self.addEventListener('install', event => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE)
    await cache.addAll(SHELL_FILES)
    await self.skipWaiting()
  })())
})

self.addEventListener('activate', event => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('shadw-shell-') && name !== CACHE) await caches.delete(name)
    }
    await self.clients.claim()
  })())
})

async function networkFirst (request: Request, fallbackPath: string): Promise<Response> {
  const cache = await caches.open(CACHE)
  try {
    const controller = new AbortController()
    const timer = setTimeout(() => { controller.abort() }, NAVIGATION_TIMEOUT_MS)
    const response = await fetch(request, { signal: controller.signal })
    clearTimeout(timer)
    return response
  } catch {
    const cached = await cache.match(fallbackPath)
    return cached ?? new Response('offline and not cached', { status: 503, headers: { 'content-type': 'text/plain' } })
  }
}

async function cacheFirst (request: Request): Promise<Response> {
  const cached = await caches.match(request)
  return cached ?? await fetch(request)
}

self.addEventListener('fetch', event => {
  const url = new URL(event.request.url)
  // same-origin `/fn/*` calls go to the origin's node worker (docs/protocol.md, "/fn/* gateway")
  if (url.origin === self.location.origin && url.pathname.startsWith(FN_PREFIX)) {
    event.respondWith(handleFnRequest(event.request, invokeThroughNode))
    return
  }
  // same-origin `/drive/*` reads come from the origin's node; the network (a super node's own
  // `/drive/*`) answers when no tab hosts a node or it cannot
  if (url.origin === self.location.origin && url.pathname.startsWith('/drive/') && (event.request.method === 'GET' || event.request.method === 'HEAD')) {
    event.respondWith(driveThroughNode(event.request).catch(async () => await fetch(event.request)))
    return
  }
  if (url.origin !== self.location.origin || event.request.method !== 'GET') return
  if (url.pathname.startsWith('/api/') || url.pathname === '/relay') return
  if (event.request.mode === 'navigate') {
    event.respondWith(networkFirst(event.request, '/'))
  } else if (SHELL_FILES.includes(url.pathname)) {
    event.respondWith(cacheFirst(event.request))
  }
})

self.addEventListener('message', event => {
  const data = event.data as { type?: unknown } | null
  if (data === null || typeof data !== 'object' || data.type !== SW_NODE_CALL) return
  const source = event.source
  event.waitUntil(routeNodeCall(data).then(reply => { source?.postMessage(reply) }))
})
