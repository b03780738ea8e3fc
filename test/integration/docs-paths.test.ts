/**
 * The docs name files by path (ARCHITECTURE.md walks a frame through them): every such path must
 * exist, so a rename or a removal that forgets the docs fails here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/server.ts'

const DOCS = ['ARCHITECTURE.md', 'README.md', 'deploy/README.md', 'models/README.md', 'bench/FINDINGS.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
/** Paths the docs give as examples of what a user creates. */
const EXAMPLES = [/^models\/my-detector\//]
const PATH = /`((?:client|server|shared|models|deploy|test|bench|docs)\/[A-Za-z0-9_./-]+)`/g

describe('paths named in the docs', () => {
  it.each(DOCS)('%s names only files that exist', (doc) => {
    const text = readFileSync(join(ROOT, doc), 'utf8')
    const named = [...new Set([...text.matchAll(PATH)].map((m) => m[1]!.replace(/[.:]$/, '')))]
    const missing = named.filter((p) => !EXAMPLES.some((e) => e.test(p)) && !existsSync(join(ROOT, p)))
    expect(missing).toEqual([])
  })
})
