/**
 * WCAG AA for the main text/background pairs of both themes, computed from the CSS variables in
 * theme.css (the light theme's two blocks, chosen and OS-preferred, must be the same).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

const css = readFileSync(new URL('./theme.css', import.meta.url), 'utf8')

function block(selector: string, from = 0): Record<string, string> {
  const at = css.indexOf(`${selector} {`, from)
  if (at < 0) throw new Error(`no ${selector} block in theme.css`)
  const body = css.slice(css.indexOf('{', at) + 1, css.indexOf('}', at))
  return Object.fromEntries([...body.matchAll(/(--[\w-]+):\s*([^;]+);/g)].map((m) => [m[1]!, m[2]!.trim()]))
}

function luminance(hex: string): number {
  const m = /^#([0-9a-f]{6})$/i.exec(hex)
  if (!m) throw new Error(`not a #rrggbb colour: ${hex}`)
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(m[1]!.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (hi! + 0.05) / (lo! + 0.05)
}

/** Foreground on background: body text, dim text, links and state colours used as text, and text on filled states. */
const PAIRS: [string, string][] = [
  ['--text', '--bg'],
  ['--text', '--surface'],
  ['--text', '--surface-2'],
  ['--text-dim', '--bg'],
  ['--text-dim', '--surface'],
  ['--text-dim', '--surface-2'],
  ['--accent', '--bg'],
  ['--accent', '--surface'],
  ['--accent-text', '--accent'],
  ['--pass-text', '--pass'],
  ['--fail-text', '--fail'],
  ['--warn-text', '--warn'],
  ['--error-text', '--bg'],
  ['--error-text', '--surface'],
  ['--ok-text', '--surface'],
]

const dark = block(':root')
const light = block(":root[data-theme='light']")
const preferredLight = block(":root:not([data-theme='dark'])")

describe('theme contrast', () => {
  it('has the two light blocks identical and every variable of the dark theme', () => {
    expect(preferredLight).toEqual(light)
    for (const k of Object.keys(light)) expect(dark[k], k).toBeDefined()
  })

  it('computes the known ratios (black on white is 21, equal colours 1)', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5)
    expect(contrast('#777777', '#777777')).toBe(1)
    expect(contrast('#767676', '#ffffff')).toBeGreaterThan(4.5)
    expect(contrast('#777777', '#ffffff')).toBeLessThan(4.5)
  })

  it.each([
    ['dark', dark],
    ['light', light],
  ])('the %s theme meets WCAG AA (4.5:1) for its text pairs', (_name, vars) => {
    const failing = PAIRS.map(([fg, bg]) => ({ fg, bg, ratio: contrast(vars[fg]!, vars[bg]!) })).filter((p) => p.ratio < 4.5)
    expect(failing).toEqual([])
  })
})
