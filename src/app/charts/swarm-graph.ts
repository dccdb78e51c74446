const SVG = 'http://www.w3.org/2000/svg'
const SIZE = 320
const CENTER = SIZE / 2
/** Radius of the peer ring; peers beyond a few dozen overlap, and the table below lists them all. */
const RING = 115

/** One peer as the graph draws it. */
export interface GraphPeer {
  key: string
  transport: 'udx' | 'relay' | 'webrtc'
  tier: string | null
  /** busy share of its executor slots, 0-1; null when it does not execute */
  load: number | null
}

/**
 * The swarm around this node as an SVG star: this node in the middle, each connected peer on
 * a ring, the link dashed when it goes through the relay and solid when direct (WebRTC or
 * UDX), the peer's fill its tier and an arc around it its executor load.
 */
export function swarmGraph (): { element: SVGSVGElement, update (self: { key: string, tier: string }, peers: GraphPeer[]): void } {
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${SIZE} ${SIZE}`)
  svg.setAttribute('role', 'img')
  svg.setAttribute('class', 'swarm-graph')
  const title = document.createElementNS(SVG, 'title')
  const layer = document.createElementNS(SVG, 'g')
  svg.append(title, layer)

  return {
    element: svg,
    update (self, peers) {
      const parts: SVGElement[] = []
      const sorted = [...peers].sort((a, b) => a.key.localeCompare(b.key))
      sorted.forEach((p, i) => {
        const angle = (i / Math.max(1, sorted.length)) * Math.PI * 2 - Math.PI / 2
        const x = CENTER + Math.cos(angle) * RING
        const y = CENTER + Math.sin(angle) * RING
        const line = node('line', { x1: CENTER, y1: CENTER, x2: x, y2: y, class: `link link-${p.transport === 'relay' ? 'relay' : 'direct'}` })
        parts.push(line)
        const g = node('g', { class: `peer tier-${p.tier ?? 'unknown'}` })
        const t = document.createElementNS(SVG, 'title')
        t.textContent = `${p.key.slice(0, 8)} · ${p.tier ?? 'tier unknown'} · ${p.transport === 'relay' ? 'via relay' : `direct (${p.transport})`}${p.load === null ? '' : ` · load ${Math.round(p.load * 100)}%`}`
        g.append(t, node('circle', { cx: x, cy: y, r: 14, class: 'peer-dot' }))
        if (p.load !== null) g.append(arc(x, y, 19, p.load))
        const label = node('text', { x, y: y + 32, class: 'peer-label', 'text-anchor': 'middle' })
        label.textContent = `${p.tier ?? '?'} ${p.key.slice(0, 4)}`
        g.append(label)
        parts.push(g)
      })
      const me = node('g', { class: `peer self tier-${self.tier}` })
      const meLabel = node('text', { x: CENTER, y: CENTER + 4, class: 'self-label', 'text-anchor': 'middle' })
      meLabel.textContent = 'you'
      me.append(node('circle', { cx: CENTER, cy: CENTER, r: 22, class: 'peer-dot' }), meLabel)
      parts.push(me)
      layer.replaceChildren(...parts)
      const direct = peers.filter(p => p.transport !== 'relay').length
      const text = `This node (${self.tier}) with ${peers.length} peers: ${direct} direct, ${peers.length - direct} through the relay`
      title.textContent = text
      svg.setAttribute('aria-label', text)
    }
  }
}

function node (tag: string, attrs: Record<string, string | number>): SVGElement {
  const n = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, typeof v === 'number' ? v.toFixed(1) : v)
  return n
}

/** An arc from 12 o'clock covering `share` of the circle. */
function arc (cx: number, cy: number, r: number, share: number): SVGElement {
  const s = Math.min(0.999, Math.max(0, share))
  if (s === 0) return node('circle', { cx, cy, r, class: 'load-track' })
  const a = s * Math.PI * 2 - Math.PI / 2
  const x = cx + Math.cos(a) * r
  const y = cy + Math.sin(a) * r
  return node('path', { d: `M ${cx.toFixed(1)} ${(cy - r).toFixed(1)} A ${r} ${r} 0 ${s > 0.5 ? 1 : 0} 1 ${x.toFixed(1)} ${y.toFixed(1)}`, class: 'load-arc' })
}
