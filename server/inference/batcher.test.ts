import { describe, expect, test, vi } from 'vitest'
import { BatchQueue } from './batcher.ts'

function clock() {
  let t = 0
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

describe('BatchQueue', () => {
  test('a full batch is due at once, a partial one only after the oldest frame waited maxDelayMs', () => {
    const c = clock()
    const q = new BatchQueue<number>({ maxSize: 3, maxDelayMs: 10 }, () => {}, c.now)
    q.push(1)
    q.push(2)
    expect(q.due()).toBe(false)
    c.advance(9)
    expect(q.due()).toBe(false)
    c.advance(1)
    expect(q.due()).toBe(true)
    q.push(3)
    expect(q.take()).toEqual([1, 2, 3])
    expect(q.size).toBe(0)
  })

  test('takes at most maxSize and at most what a worker can run, oldest first', () => {
    const c = clock()
    const q = new BatchQueue<number>({ maxSize: 4, maxDelayMs: 0 }, () => {}, c.now)
    for (let i = 0; i < 7; i++) q.push(i)
    expect(q.take()).toEqual([0, 1, 2, 3])
    expect(q.take(2)).toEqual([4, 5])
    expect(q.take()).toEqual([6])
  })

  test('batching off (maxSize 1) sends every frame alone and immediately', () => {
    const q = new BatchQueue<string>({ maxSize: 1, maxDelayMs: 50 }, () => {}, clock().now)
    q.push('a')
    q.push('b')
    expect(q.due()).toBe(true)
    expect(q.take()).toEqual(['a'])
  })

  test('a model whose batch axis is fixed at 1 makes a single frame a full batch', () => {
    const q = new BatchQueue<string>({ maxSize: 8, maxDelayMs: 1000 }, () => {}, clock().now)
    q.push('a')
    expect(q.due(1)).toBe(true)
    expect(q.due(8)).toBe(false)
  })

  test('calls onDue when a partial batch has waited long enough', () => {
    vi.useFakeTimers()
    try {
      const onDue = vi.fn()
      const q = new BatchQueue<number>({ maxSize: 4, maxDelayMs: 5 }, onDue, () => performance.now())
      q.push(1)
      vi.advanceTimersByTime(4)
      expect(onDue).not.toHaveBeenCalled()
      vi.advanceTimersByTime(2)
      expect(onDue).toHaveBeenCalledTimes(1)
    } finally {
      vi.useRealTimers()
    }
  })

  test('drain empties the queue and disarms its timer', () => {
    vi.useFakeTimers()
    try {
      const onDue = vi.fn()
      const q = new BatchQueue<number>({ maxSize: 4, maxDelayMs: 5 }, onDue)
      q.push(1)
      q.push(2)
      expect(q.drain()).toEqual([1, 2])
      vi.advanceTimersByTime(10)
      expect(onDue).not.toHaveBeenCalled()
    } finally {
      vi.useRealTimers()
    }
  })

  test('stays in order across many pushes and takes', () => {
    const q = new BatchQueue<number>({ maxSize: 3, maxDelayMs: 0 }, () => {}, clock().now)
    const out: number[] = []
    let n = 0
    for (let round = 0; round < 100; round++) {
      for (let i = 0; i < 2; i++) q.push(n++)
      out.push(...q.take())
    }
    out.push(...q.drain())
    expect(out).toEqual(Array.from({ length: n }, (_, i) => i))
  })
})
