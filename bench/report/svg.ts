/**
 * Horizontal bar charts as standalone SVG, small enough to read in a diff. No chart library:
 * bars, their values, and dashed markers for the targets.
 */

export interface Bar {
  label: string
  value: number
  /** Text after the value (a ratio, a unit). */
  note?: string
  /** Colour key, shown in the legend when more than one is used. */
  series?: string
}

export interface Marker {
  value: number
  label: string
}

export interface BarChart {
  title: string
  unit: string
  bars: Bar[]
  markers?: Marker[]
  /** Legend text per series key. */
  legend?: Record<string, string>
}

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#9c755f']
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const fmt = (v: number) => (!Number.isFinite(v) ? 'n/a' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2))

export function barChartSvg(c: BarChart): string {
  const labelW = 250
  const plotW = 430
  const valueW = 150
  const rowH = 22
  const top = 44
  const series = [...new Set(c.bars.map((b) => b.series ?? ''))]
  const legendH = series.length > 1 && c.legend ? 20 : 0
  const markersH = c.markers?.length ? 16 * c.markers.length : 0
  const height = top + legendH + c.bars.length * rowH + 24 + markersH
  const width = labelW + plotW + valueW
  const max = Math.max(1e-9, ...c.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0)), ...(c.markers ?? []).map((m) => m.value)) * 1.05
  const x = (v: number) => labelW + (Math.max(0, v) / max) * plotW
  const colour = (s: string | undefined) => PALETTE[Math.max(0, series.indexOf(s ?? '')) % PALETTE.length]!
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${esc(c.title)}</text>`,
    `<text x="10" y="36" fill="#555">${esc(c.unit)}</text>`,
  ]
  if (legendH) {
    let lx = labelW
    for (const s of series) {
      const text = c.legend?.[s] ?? s
      out.push(`<rect x="${lx}" y="${top - 2}" width="10" height="10" fill="${colour(s)}"/><text x="${lx + 14}" y="${top + 7}">${esc(text)}</text>`)
      lx += 24 + text.length * 6.5
    }
  }
  const y0 = top + legendH + 6
  c.bars.forEach((b, i) => {
    const y = y0 + i * rowH
    const w = Number.isFinite(b.value) ? x(b.value) - labelW : 0
    out.push(`<text x="${labelW - 8}" y="${y + 14}" text-anchor="end">${esc(b.label)}</text>`)
    out.push(`<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colour(b.series)}"/>`)
    out.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 14}">${esc(fmt(b.value) + (b.note ? `  ${b.note}` : ''))}</text>`)
  })
  const plotBottom = y0 + c.bars.length * rowH
  out.push(`<line x1="${labelW}" y1="${y0}" x2="${labelW}" y2="${plotBottom}" stroke="#333"/>`)
  ;(c.markers ?? []).forEach((m, i) => {
    const mx = x(m.value).toFixed(1)
    out.push(`<line x1="${mx}" y1="${y0}" x2="${mx}" y2="${plotBottom}" stroke="#c00" stroke-dasharray="4 3"/>`)
    out.push(`<text x="${mx}" y="${plotBottom + 14 + i * 16}" fill="#c00" text-anchor="middle">${esc(`${m.label} (${fmt(m.value)})`)}</text>`)
  })
  out.push('</svg>')
  return out.join('\n') + '\n'
}
