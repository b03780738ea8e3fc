import { describe, expect, it } from 'vitest'
import { lineParam, queryCursor, queryLimit, queryLine, queryTime } from './query.ts'

const q = (s: string) => new URLSearchParams(s)

/** The HTTP status and code a parse failure would answer with. */
function failure(fn: () => unknown): { status: number; code: string } | undefined {
  try {
    fn()
    return undefined
  } catch (e) {
    const err = e as { status: number; code: string }
    return { status: err.status, code: err.code }
  }
}

describe('query parameters', () => {
  it('takes a line id and refuses anything else with 400 bad_line', () => {
    expect(lineParam('L1')).toBe('L1')
    expect(lineParam('line-2.a_b:c')).toBe('line-2.a_b:c')
    for (const bad of [undefined, null, '', '../../etc', 'L1/../L2', 'a b', 'x'.repeat(65)]) {
      expect(failure(() => lineParam(bad)), String(bad)).toEqual({ status: 400, code: 'bad_line' })
    }
  })

  it('treats an absent line as no filter and an empty one as a bad id', () => {
    expect(queryLine(q(''))).toBeUndefined()
    expect(queryLine(q('line=L7'))).toBe('L7')
    expect(failure(() => queryLine(q('line=')))).toEqual({ status: 400, code: 'bad_line' })
  })

  it('bounds limit, cursor and time', () => {
    expect(queryLimit(q('limit=500'), 500)).toBe(500)
    expect(failure(() => queryLimit(q('limit=501'), 500))).toEqual({ status: 400, code: 'bad_limit' })
    expect(failure(() => queryLimit(q('limit=1.5')))).toEqual({ status: 400, code: 'bad_limit' })
    expect(queryCursor(q('cursor='))).toBeUndefined()
    expect(failure(() => queryCursor(q(`cursor=${'c'.repeat(201)}`)))).toEqual({ status: 400, code: 'bad_cursor' })
    expect(queryTime(q('from=2026-12-06T00:00:00Z'), 'from')).toBe(Date.UTC(2026, 11, 6))
    expect(failure(() => queryTime(q('from=yesterday'), 'from'))).toEqual({ status: 400, code: 'bad_time' })
  })
})
