/**
 * The one table that turns the core's coded errors into HTTP statuses. The core (ingest, lines,
 * scaling, storage, queue) throws `CodedError`s and knows nothing of HTTP; route handlers may still
 * throw `HttpError` for what is about the request itself (a header, a content type).
 */
import { CodedError, HttpError } from '../errors.ts'
import { FrameFailed, FrameRefused } from '../ingest/ingest.ts'

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  invalid: 400, // storage: a value the store cannot accept
  bad_cursor: 400,
  bad_range: 400, // scaling: a time range backwards or too long
  bad_trace: 400, // scaling: a load file the what-if panel cannot read
  bad_part: 400, // parts: not a part id
  not_found: 404,
  not_trigger_mode: 409, // parts: a trigger for a station that takes none
  station_offline: 409, // parts: a trigger for a station not connected here
  conflict: 409,
  same_model: 409, // candidates: the line's own model put as its candidate
  classes_differ: 422, // candidates: a candidate whose classes are not the line's model's
  unknown_model: 422, // candidates, line settings: no such detector in the models folder
  too_many_pixels: 413, // a frame the worker refused to decode
  invalid_settings: 422, // line or scaling settings that fail their schema
  undecodable: 422,
  busy: 503, // the queue is full
  unavailable: 503, // the queue cannot be reached
  timeout: 504, // no result in time
}

/** The HTTP form of `err`, or undefined for an unexpected error (a 500 that is logged). */
export function httpErrorOf(err: unknown): HttpError | undefined {
  if (err instanceof HttpError) return err
  if (!(err instanceof CodedError)) return undefined
  // instanceof widens the code to any; every CodedError's code is a string
  const code: string = (err as CodedError).code
  // a frame the pipeline gave up on is the service's trouble, whatever the reason: retry later
  const status = STATUS_BY_CODE[code] ?? (err instanceof FrameFailed || err instanceof FrameRefused ? 503 : undefined)
  if (status === undefined) return undefined
  return new HttpError(status, code, err.message, { cause: err, ...(err instanceof FrameRefused ? { headers: { 'retry-after': '1' } } : {}) })
}
