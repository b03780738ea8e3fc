/**
 * The query-string parameters several routes share, parsed one way: a bad value is a 400 with a
 * code naming the parameter, never a silent default.
 */
import { isId } from '../../shared/domain/ids.ts'
import { badRequest } from '../errors.ts'

/** `from`/`to`: ms since the epoch or an ISO date; absent or empty is undefined. */
export function queryTime(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)
  if (v === null || v === '') return undefined
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v)
  if (!Number.isFinite(n)) throw badRequest(`"${name}" must be ms since the epoch or an ISO date`, 'bad_time')
  return n
}

/** `limit`: an integer 1 to `max`; absent is undefined. */
export function queryLimit(q: URLSearchParams, max = 1000): number | undefined {
  const v = q.get('limit')
  if (v === null) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 1 || n > max) throw badRequest(`"limit" must be an integer 1-${max}`, 'bad_limit')
  return n
}

/** `cursor`: what a previous page gave; absent or empty is undefined (the store checks the rest). */
export function queryCursor(q: URLSearchParams): string | undefined {
  const v = q.get('cursor')
  if (v === null || v === '') return undefined
  if (v.length > 200) throw badRequest('"cursor" is not one this server gave', 'bad_cursor')
  return v
}

const LINE_RULE = '1-64 of A-Z a-z 0-9 . _ : -'

/** A line id from a path or query parameter; anything else (absent, empty, `../x`) is 400 `bad_line`. */
export function lineParam(v: string | null | undefined, name = 'line'): string {
  if (!v || !isId(v)) throw badRequest(`"${name}" must be a line id (${LINE_RULE})`, 'bad_line')
  return v
}

/** An optional `line` query parameter: absent is undefined, present must be a line id. */
export function queryLine(q: URLSearchParams): string | undefined {
  const v = q.get('line')
  return v === null ? undefined : lineParam(v)
}
