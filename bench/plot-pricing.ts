/**
 * Draws the bonding curve of docs/pricing.md: price per million fuel against utilisation for
 * the default config (with its control polygon) and two alternatives, computed by the same
 * `quote` the nodes use. Writes docs/pricing-curve.svg; run `node --import tsx bench/plot-pricing.ts`.
 */
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { DEFAULT_PRICING, PPM, quote, type PricingConfig } from '../src/core/pricing/index.ts'

const OUT = fileURLToPath(new URL('../docs/pricing-curve.svg', import.meta.url))
/** Plot area in SVG units, with margins for the axes' labels. */
const W = 640
const H = 400
const M = { left: 70, right: 20, top: 30, bottom: 50 }
/** Samples per curve: 1% steps of utilisation. */
const STEPS = 100

const curves: Array<{ name: string, colour: string, cfg: PricingConfig }> = [
  { name: 'default [0.5, 0.6, 1.2, 4.0] × base', colour: '#c0392b', cfg: DEFAULT_PRICING },
  { name: 'linear [1, 2, 3, 4] × base', colour: '#2471a3', cfg: { ...DEFAULT_PRICING, curve: [1_000_000, 2_000_000, 3_000_000, 4_000_000] } },
  { name: 'flat [1, 1, 1, 1] × base', colour: '#7f8c8d', cfg: { ...DEFAULT_PRICING, curve: [1_000_000, 1_000_000, 1_000_000, 1_000_000] } }
]

const yMax = 4_500
const x = (t: number): number => M.left + t * (W - M.left - M.right)
const y = (p: number): number => H - M.bottom - (p / yMax) * (H - M.top - M.bottom)
const f = (n: number): string => n.toFixed(1)

const parts: string[] = []
parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`)
parts.push(`<rect width="${W}" height="${H}" fill="white"/>`)
for (let p = 0; p <= yMax; p += 500) {
  parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${f(y(p))}" y2="${f(y(p))}" stroke="#eee"/>`)
  parts.push(`<text x="${M.left - 6}" y="${f(y(p) + 4)}" text-anchor="end">${p}</text>`)
}
for (let t = 0; t <= 1.0001; t += 0.1) {
  parts.push(`<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/>`)
  parts.push(`<text x="${f(x(t))}" y="${H - M.bottom + 16}" text-anchor="middle">${Math.round(t * 100)}%</text>`)
}
parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 10}" text-anchor="middle">utilisation t = demand / supply</text>`)
parts.push(`<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">µcredits per million fuel</text>`)
// the default's control polygon: where the curve is pulled, not where it passes
const poly = DEFAULT_PRICING.curve.map((h, i) => `${f(x(i / 3))},${f(y(DEFAULT_PRICING.fuelBase * h / PPM))}`)
parts.push(`<polyline points="${poly.join(' ')}" fill="none" stroke="#c0392b" stroke-dasharray="4 4" stroke-opacity="0.6"/>`)
for (const pt of poly) { const [px, py] = pt.split(','); parts.push(`<circle cx="${px}" cy="${py}" r="4" fill="white" stroke="#c0392b"/>`) }
curves.forEach((c, i) => {
  const pts: string[] = []
  for (let s = 0; s <= STEPS; s++) pts.push(`${f(x(s / STEPS))},${f(y(quote(c.cfg, s, STEPS).fuelPrice))}`)
  parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${c.colour}" stroke-width="2"/>`)
  parts.push(`<line x1="${M.left + 14}" x2="${M.left + 40}" y1="${M.top + 8 + i * 18}" y2="${M.top + 8 + i * 18}" stroke="${c.colour}" stroke-width="2"/>`)
  parts.push(`<text x="${M.left + 46}" y="${M.top + 12 + i * 18}">${c.name}</text>`)
})
parts.push(`<text x="${M.left + 46}" y="${M.top + 12 + curves.length * 18}" fill="#c0392b">○ default control points P0..P3 (base ${DEFAULT_PRICING.fuelBase} µcredits / M fuel)</text>`)
parts.push('</svg>')
await writeFile(OUT, parts.join('\n') + '\n')
process.stdout.write(`wrote ${OUT}\n`)
