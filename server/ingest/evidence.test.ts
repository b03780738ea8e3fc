import { describe, expect, it } from 'vitest'
import { waitFor } from '../../test/helpers/wait.ts'
import { EvidenceBook, evidenceDeps, MAX_PENDING_EVIDENCE, wantsEvidence } from './evidence.ts'

describe('which originals are asked for', () => {
  it('never with never, failing frames with failing, every frame with all', () => {
    expect([wantsEvidence('never', 'fail'), wantsEvidence('never', 'pass')]).toEqual([false, false])
    expect([wantsEvidence('failing', 'fail'), wantsEvidence('failing', 'pass')]).toEqual([true, false])
    expect([wantsEvidence('all', 'fail'), wantsEvidence('all', 'pass')]).toEqual([true, true])
  })

  it('takes the line setting (failing when unset), and asks nothing where the store keeps no originals', () => {
    const store = { saveEvidence: () => Promise.resolve(true) }
    const settings = { get: (line: string) => (line === 'L2' ? { evidence: 'all' as const } : {}) }
    const keeping = evidenceDeps({ settings, store, keepsOriginals: true })
    expect([keeping.mode('L1'), keeping.mode('L2')]).toEqual(['failing', 'all'])
    expect(evidenceDeps({ settings, store, keepsOriginals: false }).mode('L2')).toBe('never')
  })
})

describe('EvidenceBook', () => {
  it('closes a request once: a second answer finds nothing', () => {
    const book = new EvidenceBook()
    book.expect('f1', { width: 640, height: 480 }, 60_000, () => undefined)
    expect(book.take('f1')).toMatchObject({ width: 640, height: 480 })
    expect(book.take('f1')).toBeUndefined()
  })

  it('counts a request nobody answered as missed after its wait, and forgets it', async () => {
    const book = new EvidenceBook()
    let missed = 0
    book.expect('f1', { width: 640, height: 480 }, 5, () => missed++)
    await waitFor(() => missed === 1, { timeoutMs: 5_000, what: 'the request to time out' })
    expect(book.pending.size).toBe(0)
  })

  it('is full at MAX_PENDING_EVIDENCE open requests', () => {
    const book = new EvidenceBook()
    for (let i = 0; i < MAX_PENDING_EVIDENCE; i++) book.expect(`f${i}`, { width: 1, height: 1 }, 60_000, () => undefined)
    expect(book.full).toBe(true)
    book.take('f0')
    expect(book.full).toBe(false)
    book.clear()
    expect(book.pending.size).toBe(0)
  })
})
