import { describe, expect, it } from 'vitest'
import type { CpuProfile } from './inspector.ts'
import { areaOf, summariseProfile } from './summary.ts'

const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0 })

describe('CPU profile summary', () => {
  it("attributes each sample's duration to its function and keeps idle time apart", () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)'), children: [2, 3, 4] },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('record', 'file:///repo/server/results/recorder.ts') },
        { id: 4, callFrame: frame('exec') },
      ],
      startTime: 0,
      endTime: 4000,
      // sample i lasts timeDeltas[i + 1]
      samples: [3, 3, 4, 2],
      timeDeltas: [0, 1000, 1000, 1000, 1000],
    }
    const s = summariseProfile(profile)
    expect(s.idleMs).toBe(1)
    expect(s.busyMs).toBe(3)
    expect(s.top[0]).toMatchObject({ fn: 'record', where: 'server/results/recorder.ts', selfMs: 2 })
    expect(s.top[1]).toMatchObject({ fn: 'exec', selfMs: 1 })
    expect(s.top[0]!.share).toBeCloseTo(2 / 3)
    expect(s.areas.map((a) => a.area)).toEqual(['server/results', '(native)'])
  })

  it('names the package or linesight folder a script belongs to', () => {
    expect(areaOf('file:///w/node_modules/zod/v4/core/schemas.js', 'parse')).toBe('zod')
    expect(areaOf('file:///w/node_modules/@scope/pkg/x.js', 'f')).toBe('@scope/pkg')
    expect(areaOf('file:///w/server/ingest/station-session.ts', 'f')).toBe('server/ingest')
    expect(areaOf('node:internal/streams', 'f')).toBe('node internals')
    expect(areaOf('', '(garbage collector)')).toBe('(garbage collector)')
  })
})
