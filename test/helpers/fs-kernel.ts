/** What the fs-read-kernel fixture prints, for the tests that check a mounted file's bytes reached it. */

/** What fs-read-kernel prints for one pass over `data`: its size and FNV-1a over every 64th byte of each 64 KiB read. */
export function kernel (data: Uint8Array): string {
  let h = 2166136261
  for (let off = 0; off < data.length; off += 65536) {
    const n = Math.min(65536, data.length - off)
    for (let i = 0; i < n; i += 64) h = Math.imul(h ^ (data[off + i] as number), 16777619) >>> 0
  }
  return `${data.length} ${h}\n`
}
