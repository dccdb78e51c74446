import { createHash } from 'node:crypto'
import { inflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { readExamples, type Example } from '../../../src/cli/examples-publish.ts'
import { answer, checkExamples, sourceOf, toolchainFor } from '../../../scripts/build-examples.ts'

const examples = await readExamples()
const toolchains = await Promise.all(examples.map(async e => toolchainFor(await sourceOf(e.dir))))
const byName = (name: string): Example => {
  const e = examples.find(x => x.name === name)
  if (e === undefined) throw new Error(`no example ${name}`)
  return e
}
const text = (b: Uint8Array): string => new TextDecoder().decode(b)

/** Decodes an 8-bit, non-interlaced PNG with node's zlib and the filters of the PNG spec. */
function decodePng (png: Uint8Array): { width: number, height: number, channels: number, pixels: Uint8Array } {
  const view = Buffer.from(png)
  let i = 8
  let width = 0
  let height = 0
  let color = 0
  const idat: Buffer[] = []
  while (i < view.length) {
    const n = view.readUInt32BE(i)
    const type = view.toString('latin1', i + 4, i + 8)
    const body = view.subarray(i + 8, i + 8 + n)
    if (type === 'IHDR') { width = body.readUInt32BE(0); height = body.readUInt32BE(4); color = body[9] as number }
    if (type === 'IDAT') idat.push(body)
    i += 12 + n
  }
  const channels = ({ 0: 1, 2: 3, 4: 2, 6: 4 } as Record<number, number>)[color] as number
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const out = new Uint8Array(stride * height)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[y * stride + x - channels] as number : 0
      const b = y > 0 ? out[(y - 1) * stride + x] as number : 0
      const c = x >= channels && y > 0 ? out[(y - 1) * stride + x - channels] as number : 0
      const p = a + b - c
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c
      const pred = [0, a, b, Math.floor((a + b) / 2), paeth][filter] as number
      out[y * stride + x] = ((raw[y * (stride + 1) + 1 + x] as number) + pred) & 0xff
    }
  }
  return { width, height, channels, pixels: out }
}

describe('the examples', () => {
  it('are at least six, in C, Rust, AssemblyScript and WAT, on both ABIs', () => {
    expect(examples.map(e => e.name)).toEqual(['base64', 'json-canonical', 'markdown', 'png-grayscale', 'rot13', 'sha256', 'tree-count', 'word-count'])
    expect(toolchains.map(t => t.name)).toContain('assemblyscript (npm)')
    expect(new Set(examples.map(e => e.abi))).toEqual(new Set(['raw', 'wasi']))
  })

  it('each committed module answers its documented input with its documented output in the sandbox', async () => {
    for (const e of examples) expect({ name: e.name, output: Buffer.from(await answer(e, e.module)) }).toEqual({ name: e.name, output: Buffer.from(e.output) })
  })

  it('documents outputs an independent implementation agrees with', () => {
    const sha = byName('sha256')
    expect(text(sha.output)).toBe(createHash('sha256').update(sha.input).digest('hex'))

    const b64 = byName('base64')
    expect(text(b64.output)).toBe(Buffer.from(b64.input).toString('base64'))

    const rot = byName('rot13')
    expect(text(rot.output)).toBe(text(rot.input).replace(/[a-z]/gi, c => String.fromCharCode((c <= 'Z' ? 65 : 97) + ((c.charCodeAt(0) - (c <= 'Z' ? 65 : 97) + 13) % 26))))

    const wc = byName('word-count')
    const input = text(wc.input)
    const counts = new Map<string, number>()
    for (const w of input.toLowerCase().match(/[a-z0-9']+/g) ?? []) counts.set(w, (counts.get(w) ?? 0) + 1)
    const top = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5)
    expect(JSON.parse(text(wc.output))).toEqual({ lines: input.split('\n').length - 1, words: input.split(/\s+/).filter(Boolean).length, bytes: wc.input.byteLength, top })

    // the same document, keys sorted at every level, no whitespace outside strings
    const jc = byName('json-canonical')
    expect(JSON.parse(text(jc.output))).toEqual(JSON.parse(text(jc.input)))
    const sortKeys = (v: unknown): unknown => Array.isArray(v) ? v.map(sortKeys) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map(k => [k, sortKeys((v as Record<string, unknown>)[k])])) : v
    expect(text(jc.output)).toBe(JSON.stringify(sortKeys(JSON.parse(text(jc.input)))).replace('2.5,', '2.50,') + '\n')

    // without a mount, stdin counted as one file named "-"
    const tc = byName('tree-count')
    const tin = text(tc.input)
    const tcount = [tin.split('\n').length - 1, tin.split(/\s+/).filter(Boolean).length, tc.input.byteLength]
    expect(JSON.parse(text(tc.output))).toEqual({ files: 1, lines: tcount[0], words: tcount[1], bytes: tcount[2], each: [['-', ...tcount]] })

    const png = byName('png-grayscale')
    const rgb = decodePng(png.input)
    const gray = decodePng(png.output)
    expect([gray.width, gray.height, gray.channels]).toEqual([rgb.width, rgb.height, 1])
    const expected = new Uint8Array(rgb.width * rgb.height)
    for (let p = 0; p < expected.length; p++) {
      const [r, g, b] = [rgb.pixels[p * 3] as number, rgb.pixels[p * 3 + 1] as number, rgb.pixels[p * 3 + 2] as number]
      expected[p] = Math.floor((299 * r + 587 * g + 114 * b + 500) / 1000)
    }
    expect(Buffer.from(gray.pixels)).toEqual(Buffer.from(expected))
  })

  it.skipIf(!toolchains.every(t => t.present))('rebuilt from source, each answers its example the same and the build is byte-identical', { timeout: 240_000 }, async () => {
    const results = await checkExamples()
    expect(results.map(r => [r.name, r.answers, r.identical])).toEqual(examples.map(e => [e.name, true, true]))
  })
})
