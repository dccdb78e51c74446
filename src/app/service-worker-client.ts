/**
 * Registers the service worker that caches the app shell for offline loads. Module type so
 * sw.js can share code with the app; scope `/` so it controls every page of the app.
 */
export async function registerServiceWorker (): Promise<ServiceWorkerRegistration | null> {
  if (!('serviceWorker' in navigator)) return null
  return await navigator.serviceWorker.register('/sw.js', { type: 'module', scope: '/' })
}
