import { describe, expect, it } from 'vitest'
import { EvidenceRing } from './evidence-ring.ts'

/** What the ring uses of an ImageBitmap: its size, and close(). */
function bitmap(width: number, height: number): ImageBitmap & { closed: boolean } {
  const b = { width, height, closed: false, close: () => void (b.closed = true) }
  return b as unknown as ImageBitmap & { closed: boolean }
}

describe('EvidenceRing', () => {
  it('hands an original over once: a second take finds nothing', () => {
    const ring = new EvidenceRing(4, 1e9)
    const a = bitmap(10, 10)
    ring.put('a', a)
    expect(ring.take('a')).toBe(a)
    expect(ring.take('a')).toBeUndefined()
    expect(a.closed).toBe(false)
    expect(ring.bytes).toBe(0)
  })

  it('closes the oldest originals beyond its frame count', () => {
    const ring = new EvidenceRing(2, 1e9)
    const [a, b, c] = [bitmap(1, 1), bitmap(1, 1), bitmap(1, 1)]
    ring.put('a', a)
    ring.put('b', b)
    ring.put('c', c)
    expect([a.closed, b.closed, c.closed]).toEqual([true, false, false])
    expect(ring.take('a')).toBeUndefined()
    expect(ring.size).toBe(2)
  })

  it('closes the oldest originals beyond its byte budget (4 bytes a pixel), and refuses one larger than the whole ring', () => {
    const ring = new EvidenceRing(16, 100 * 100 * 4 * 2)
    const [a, b, c] = [bitmap(100, 100), bitmap(100, 100), bitmap(100, 100)]
    ring.put('a', a)
    ring.put('b', b)
    expect(ring.bytes).toBe(80_000)
    ring.put('c', c)
    expect([a.closed, b.closed, c.closed]).toEqual([true, false, false])
    const huge = bitmap(1000, 1000)
    ring.put('huge', huge)
    expect(huge.closed).toBe(true)
    expect(ring.size).toBe(2)
  })

  it('closes everything it holds on clear', () => {
    const ring = new EvidenceRing()
    const a = bitmap(2, 2)
    ring.put('a', a)
    ring.clear()
    expect(a.closed).toBe(true)
    expect(ring.size).toBe(0)
  })
})
