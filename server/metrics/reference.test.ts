import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { LATENCY_BUCKETS } from './metrics.ts'
import { exportedSeriesNames, metricReference, referenceMarkdown } from './reference.ts'

const refs = metricReference()

describe('metrics reference', () => {
  it('docs/metrics.md is exactly what the generator prints (regenerate: npx tsx server/metrics/print-reference.ts > docs/metrics.md)', () => {
    const committed = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8')
    expect(committed).toBe(referenceMarkdown(refs))
  })

  it('lists the GPU metrics even though this process registered none', () => {
    expect(refs.map((r) => r.name)).toEqual(expect.arrayContaining(['linesight_gpu_utilization_ratio', 'linesight_gpu_memory_used_bytes', 'linesight_gpu_memory_total_bytes']))
  })

  it('names every series a histogram stores, and no bare histogram name', () => {
    const names = exportedSeriesNames(refs)
    expect(names.has('linesight_e2e_latency_seconds_bucket')).toBe(true)
    expect(names.has('linesight_e2e_latency_seconds_count')).toBe(true)
    expect(names.has('linesight_e2e_latency_seconds')).toBe(false)
    expect(names.has('linesight_frames_received_total')).toBe(true)
  })
})

describe('metric naming rules', () => {
  it.each(refs.map((r) => [r.name, r] as const))('%s follows the naming rules', (name, r) => {
    expect(name).toMatch(/^linesight_[a-z0-9_]+$/)
    expect(r.help.length).toBeGreaterThan(10)
    if (r.type === 'counter') expect(name).toMatch(/_total$/)
    else expect(name).not.toMatch(/_total$/)
    // base units only: seconds, bytes, ratios
    expect(name).not.toMatch(/_(ms|milliseconds|us|microseconds|kb|mb|mib|gb|percent|pct)(_|$)/)
    if (r.type === 'histogram' && name.endsWith('_seconds')) expect(r.buckets).toEqual(LATENCY_BUCKETS)
  })

  it('latency buckets run from 1 ms to 10 s', () => {
    expect(LATENCY_BUCKETS[0]).toBe(0.001)
    expect(LATENCY_BUCKETS.at(-1)).toBe(10)
  })
})
