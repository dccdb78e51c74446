/**
 * Stands in for `rabin-native` in browser bundles. Hyperdrive loads mirror-drive, which loads
 * this native content-defined chunker at import time (a Node addon: it reads `__filename` and
 * crashes a worker). shadw never mirrors drives in a browser, so the chunker is never built
 * there; if something ever does, it fails loudly here instead of at import.
 */
export class Chunker {
  constructor () {
    throw new Error('rabin-native is not available in browsers (drive mirroring is Node-only)')
  }
}
