import { describe, expect, it } from 'vitest'
import { CodedError, HttpError } from '../errors.ts'
import { FrameFailed, FrameRefused } from '../ingest/ingest.ts'
import { QueueError } from '../queue/errors.ts'
import { StorageError } from '../storage/errors.ts'
import { httpErrorOf } from './statuses.ts'

const statusOf = (err: unknown) => httpErrorOf(err)?.status

describe('the code-to-status table', () => {
  it('answers a store refusal as the client’s mistake', () => {
    expect([statusOf(new StorageError('bad_cursor', 'x')), statusOf(new StorageError('invalid', 'x')), statusOf(new StorageError('not_found', 'x')), statusOf(new StorageError('conflict', 'x'))]).toEqual([400, 400, 404, 409])
  })

  it('maps the core’s validation codes', () => {
    expect([statusOf(new CodedError('bad_range', 'x')), statusOf(new CodedError('invalid_settings', 'x')), statusOf(new CodedError('timeout', 'x'))]).toEqual([400, 422, 504])
  })

  it('tells a refused frame to retry later', () => {
    const http = httpErrorOf(new FrameRefused('busy', { code: 'busy', message: 'queue is full' }))
    expect(http).toMatchObject({ status: 503, code: 'busy', message: 'queue is full', headers: { 'retry-after': '1' } })
    expect(statusOf(new FrameRefused('busy', { code: 'unavailable', message: 'down' }))).toBe(503)
  })

  it('maps a failed frame by its reason, 503 for reasons it does not name', () => {
    expect([statusOf(new FrameFailed('undecodable', 'x')), statusOf(new FrameFailed('too_many_pixels', 'x')), statusOf(new FrameFailed('delivery-limit', 'x'))]).toEqual([422, 413, 503])
  })

  it('keeps an HttpError as it is', () => {
    const e = new HttpError(415, 'unsupported_type', 'x')
    expect(httpErrorOf(e)).toBe(e)
  })

  it('leaves faults unmapped, so they answer 500 and are logged', () => {
    expect([statusOf(new Error('boom')), statusOf(new StorageError('io', 'disk')), statusOf(new QueueError('settle_failed', 'x')), statusOf('text')]).toEqual([undefined, undefined, undefined, undefined])
  })
})
