import { describe, expect, test } from 'vitest'
import { planThreads } from './plan.ts'

describe('planThreads', () => {
  test('without settings, one single-threaded worker per core', () => {
    expect(planThreads(2)).toMatchObject({ workers: 2, threadsPerWorker: 1 })
    expect(planThreads(16)).toMatchObject({ workers: 16, threadsPerWorker: 1 })
  })

  test('fills the cores around whichever of workers and threads is set', () => {
    expect(planThreads(8, 2)).toMatchObject({ workers: 2, threadsPerWorker: 4 })
    expect(planThreads(8, undefined, 4)).toMatchObject({ workers: 2, threadsPerWorker: 4 })
    expect(planThreads(2, 4)).toMatchObject({ workers: 4, threadsPerWorker: 1 })
  })

  test('takes both settings as given and says when they oversubscribe', () => {
    const p = planThreads(2, 2, 2)
    expect(p).toMatchObject({ workers: 2, threadsPerWorker: 2 })
    expect(p.reason).toContain('oversubscribes')
  })
})
