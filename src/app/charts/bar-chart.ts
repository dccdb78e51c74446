const SVG = 'http://www.w3.org/2000/svg'

/** Drawing size in SVG units; the element scales to its container's width. */
const WIDTH = 300
const HEIGHT = 80

export interface BarChart {
  element: SVGSVGElement
  /** Redraws with one value per bucket, oldest first; `failed` draws a second colour on top. */
  update (values: number[], failed?: number[]): void
}

/**
 * A bar chart in plain SVG (no chart library: a few dozen rects per second is nothing).
 * The chart is an image with a text alternative kept current, so screen readers get the
 * latest figure and the trend instead of rectangles.
 */
export function barChart (title: string, describe: (values: number[]) => string): BarChart {
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`)
  svg.setAttribute('preserveAspectRatio', 'none')
  svg.setAttribute('role', 'img')
  svg.setAttribute('class', 'chart')
  const label = document.createElementNS(SVG, 'title')
  svg.append(label)
  const bars = document.createElementNS(SVG, 'g')
  svg.append(bars)
  const axis = document.createElementNS(SVG, 'line')
  axis.setAttribute('x1', '0'); axis.setAttribute('x2', String(WIDTH))
  axis.setAttribute('y1', String(HEIGHT - 0.5)); axis.setAttribute('y2', String(HEIGHT - 0.5))
  axis.setAttribute('class', 'chart-axis')
  svg.append(axis)

  return {
    element: svg,
    update (values, failed = []) {
      const max = Math.max(1, ...values.map((v, i) => v + (failed[i] ?? 0)))
      const w = WIDTH / Math.max(1, values.length)
      const rects: SVGRectElement[] = []
      values.forEach((v, i) => {
        const f = failed[i] ?? 0
        const hOk = (v / max) * (HEIGHT - 4)
        const hFail = (f / max) * (HEIGHT - 4)
        if (hOk > 0) rects.push(rect(i * w + 0.5, HEIGHT - hOk, w - 1, hOk, 'chart-bar'))
        if (hFail > 0) rects.push(rect(i * w + 0.5, HEIGHT - hOk - hFail, w - 1, hFail, 'chart-bar-fail'))
      })
      bars.replaceChildren(...rects)
      const text = `${title}: ${describe(values)}`
      label.textContent = text
      svg.setAttribute('aria-label', text)
    }
  }
}

function rect (x: number, y: number, w: number, h: number, cls: string): SVGRectElement {
  const r = document.createElementNS(SVG, 'rect')
  r.setAttribute('x', x.toFixed(2)); r.setAttribute('y', y.toFixed(2))
  r.setAttribute('width', Math.max(0.5, w).toFixed(2)); r.setAttribute('height', h.toFixed(2))
  r.setAttribute('class', cls)
  return r
}
