/**
 * Request bodies: JSON, then a zod schema. Every route that takes a JSON body reads it here, so a
 * body that is not JSON is one error (400 `bad_json`) and a body that does not fit its schema names
 * each field that is wrong (400 with the route's own code). Size limits are the route's `bodyLimit`.
 */
import type { z } from 'zod'
import { badRequest } from '../errors.ts'

/** The body as JSON, or 400 `bad_json`. */
export function jsonBody(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body).toString('utf8')) as unknown
  } catch {
    throw badRequest('body must be JSON', 'bad_json')
  }
}

/** `path: message; …` of a failed parse, `(body)` for the body as a whole. */
export function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')
}

/** The body parsed by `schema`, or 400 with `code` naming each field that is wrong. */
export function parseBody<T>(schema: z.ZodType<T>, body: Uint8Array, code: string): T {
  const parsed = schema.safeParse(jsonBody(body))
  if (!parsed.success) throw badRequest(issuesText(parsed.error), code)
  return parsed.data
}
