/**
 * Which webhook events a part or a station change makes, with the message id each carries (the
 * receiver's deduplication key, also the outbox key) and the body, in the Standard Webhooks
 * shape `{type, timestamp, data}`.
 */
import type { PartRecord } from '../../../shared/domain/part.ts'
import type { WebhookEvent } from '../../storage/webhooks.ts'
import { partPayload, statePayload } from '../payloads.ts'
import type { StationState } from '../types.ts'

export interface WebhookMessage {
  event: WebhookEvent
  line: string
  messageId: string
  payload: string
}

const body = (type: WebhookEvent, at: number, data: object) => JSON.stringify({ type, timestamp: new Date(at).toISOString(), data })

/** Every closed part is `part.inspected`; one that did not pass is `part.failed` as well. */
export function partMessages(part: PartRecord): WebhookMessage[] {
  const at = part.closedAt ?? part.openedAt
  const data = partPayload(part)
  const id = `${part.line}:${part.station}:${part.partId}`
  const out: WebhookMessage[] = [{ event: 'part.inspected', line: part.line, messageId: `part.inspected:${id}`, payload: body('part.inspected', at, data) }]
  if (part.verdict !== 'pass') out.push({ event: 'part.failed', line: part.line, messageId: `part.failed:${id}`, payload: body('part.failed', at, data) })
  return out
}

/** One per time a station goes offline, keyed by when. */
export function offlineMessage(state: StationState): WebhookMessage {
  return {
    event: 'station.offline',
    line: state.line,
    messageId: `station.offline:${state.line}:${state.station}:${state.since}`,
    payload: body('station.offline', state.since, statePayload(state)),
  }
}
