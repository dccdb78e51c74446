// Vite's `?url` import: the URL the built asset is served at (see vite/client; the worker and
// page builds use it, the typecheck does not load vite's client types).
declare module '*?url' {
  const url: string
  export default url
}
