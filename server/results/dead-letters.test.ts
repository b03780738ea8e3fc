import { describe, expect, it } from 'vitest'
import type { DeadLetter } from '../queue/types.ts'
import { deadLetterCode, deadLetterResult } from './dead-letters.ts'

const dead = (over: Partial<DeadLetter> = {}): DeadLetter => ({
  message: { id: 'f1', headers: { line: 'L1', station: 'S1', capturedAt: 42, model: 'detector', source: 'upload', jobId: 'j1' }, body: new Uint8Array() },
  priority: 'live',
  reason: 'delivery-limit',
  deadAt: 1000,
  ...over,
})

describe('a dead letter as a result', () => {
  it('fails the part nobody inspected, keeping where it came from', () => {
    expect(deadLetterResult(dead({ error: 'undecodable: not a JPEG' }))).toMatchObject({
      frameId: 'f1', line: 'L1', station: 'S1', capturedAt: 42, source: 'upload', jobId: 'j1', verdict: 'fail', detections: [],
      error: { code: 'undecodable', message: 'undecodable: not a JPEG' },
    })
  })

  it('keeps the inference error code the processor nacked with, not internal ones', () => {
    expect([deadLetterCode(dead({ error: 'too_many_pixels: 9000x9000' })), deadLetterCode(dead({ error: 'internal: boom' })), deadLetterCode(dead()), deadLetterCode(dead({ reason: 'expired', error: 'undecodable: x' }))]).toEqual([
      'too_many_pixels', 'dead_letter', 'dead_letter', 'expired',
    ])
  })

  it('falls back to the dead-letter time and unknown names when the headers are gone', () => {
    expect(deadLetterResult(dead({ message: { id: 'f2', headers: {}, body: new Uint8Array() } }))).toMatchObject({ line: 'unknown', station: 'unknown', capturedAt: 1000, source: 'ws' })
  })
})
