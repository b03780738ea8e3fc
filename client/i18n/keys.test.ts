import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { LOCALES } from './locale.ts'

type Tree = { [k: string]: string | Tree }

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [`${prefix}${k}`] : keys(v, `${prefix}${k}.`)))
}

function placeholders(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>()
  for (const [k, v] of Object.entries(tree)) {
    if (typeof v === 'string') out.set(`${prefix}${k}`, [...v.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(','))
    else for (const [kk, vv] of placeholders(v, `${prefix}${k}.`)) out.set(kk, vv)
  }
  return out
}

const load = (locale: string): Tree => JSON.parse(readFileSync(new URL(`./${locale}.json`, import.meta.url), 'utf8')) as Tree

describe('locale files', () => {
  const [base, ...others] = LOCALES
  const reference = load(base)

  it.each(others)('%s has exactly the keys of the English file', (locale) => {
    const mine = load(locale)
    expect(keys(mine).sort()).toEqual(keys(reference).sort())
  })

  it.each(others)('%s uses the same placeholders as the English file in every message', (locale) => {
    const mine = placeholders(load(locale))
    for (const [key, names] of placeholders(reference)) expect({ key, names: mine.get(key) }).toEqual({ key, names })
  })

  it.each(LOCALES)('%s has no empty message', (locale) => {
    const empty: string[] = []
    const walk = (t: Tree, p: string) => {
      for (const [k, v] of Object.entries(t)) {
        if (typeof v !== 'string') walk(v, `${p}${k}.`)
        else if (!v.trim()) empty.push(p + k)
      }
    }
    walk(load(locale), '')
    expect(empty).toEqual([])
  })

  // vue-i18n reads a bare @ as a linked message and throws when the message is shown ("mAP@0.5" did)
  it.each(LOCALES)("%s writes a literal @ as {'@'}", (locale) => {
    const bare: string[] = []
    const walk = (t: Tree, p: string) => {
      for (const [k, v] of Object.entries(t)) {
        if (typeof v !== 'string') walk(v, `${p}${k}.`)
        else if (v.replaceAll("{'@'}", '').includes('@')) bare.push(p + k)
      }
    }
    walk(load(locale), '')
    expect(bare).toEqual([])
  })
})

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return e.name === 'public' ? [] : sources(p)
    return /\.(vue|ts)$/.test(e.name) && !e.name.endsWith('.test.ts') ? [p] : []
  })
}

describe('messages used by the code', () => {
  it('exist in the English file (static keys passed to t())', () => {
    const known = new Set(keys(load('en')))
    const clientDir = fileURLToPath(new URL('..', import.meta.url))
    const missing: string[] = []
    let found = 0
    for (const file of sources(clientDir)) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([A-Za-z0-9_.]+)'/g)) {
        found++
        if (!known.has(m[1]!)) missing.push(`${file.slice(clientDir.length)}: ${m[1]}`)
      }
    }
    expect(found).toBeGreaterThan(50)
    expect(missing).toEqual([])
  })
})
