import { z } from 'zod'

/**
 * Identifiers that cross the wire (line, station, frame ids). They never become file paths, but
 * the same narrow alphabet everywhere keeps logs, metrics labels and SQL predictable.
 */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/
export const Id = z.string().regex(ID_PATTERN, 'an id: 1-64 of A-Z a-z 0-9 . _ : - (not starting with a symbol)')

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value)
}
