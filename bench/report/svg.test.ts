import { describe, expect, it } from 'vitest'
import { barChartSvg } from './svg.ts'

describe('bar chart SVG', () => {
  it('escapes labels so the chart stays valid XML', () => {
    const svg = barChartSvg({ title: 'a < b & "c"', unit: 'frames/s', bars: [{ label: '<script>', value: 1 }] })
    expect(svg).not.toContain('<script>')
    expect(svg).toContain('&lt;script&gt;')
    expect(svg).toContain('a &lt; b &amp; &quot;c&quot;')
  })

  it('draws one bar per value, scaled so the largest fits and the others keep their proportion', () => {
    const svg = barChartSvg({ title: 't', unit: 'u', bars: [{ label: 'x', value: 100 }, { label: 'y', value: 50 }, { label: 'z', value: Number.NaN }] })
    const widths = [...svg.matchAll(/<rect x="\d+" y="[\d.]+" width="([\d.]+)" height="16"/g)].map((m) => Number(m[1]))
    expect(widths).toHaveLength(3)
    expect(widths[1]! / widths[0]!).toBeCloseTo(0.5, 2)
    // a value that was not measured is drawn as no bar and labelled, never as zero or a guess
    expect(widths[2]).toBe(0)
    expect(svg).toContain('n/a')
  })
})
