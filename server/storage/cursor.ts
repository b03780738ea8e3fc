/**
 * Opaque keyset cursors: the sort key of the last item of a page. A page then starts strictly
 * after that key, so rows inserted meanwhile never shift later pages (no duplicates, no gaps),
 * unlike OFFSET.
 */
import { StorageError } from './errors.ts'

export type CursorKey = readonly (string | number)[]

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url')
}

/** Decodes a cursor whose parts have the given types, or throws `bad_cursor`. */
export function decodeCursor<const K extends readonly ('string' | 'number')[]>(
  cursor: string,
  shape: K,
): { [I in keyof K]: K[I] extends 'string' ? string : number } {
  let key: unknown
  try {
    if (cursor.length > 512) throw new Error('too long')
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch (err) {
    throw new StorageError('bad_cursor', 'the cursor is not one this server issued', { cause: err })
  }
  const ok =
    Array.isArray(key) &&
    key.length === shape.length &&
    key.every((v, i) => (shape[i] === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeof v === 'string'))
  if (!ok) throw new StorageError('bad_cursor', 'the cursor is not one this server issued')
  return key as { [I in keyof K]: K[I] extends 'string' ? string : number }
}

/** Clamps a page size to 1..max (the default when absent); a non-integer is a caller error. */
export function pageSize(limit: number | undefined, def: number, max: number): number {
  if (limit === undefined) return def
  if (!Number.isInteger(limit) || limit < 1) throw new StorageError('invalid', `limit must be a positive integer, got ${limit}`)
  return Math.min(limit, max)
}
