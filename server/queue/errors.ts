/**
 * Errors of the queue layer beyond the two the contract names (`QueueFullError`, `QueueClosedError`
 * in types.ts). Each carries a code the gateway can map to a reply without parsing messages.
 */
import { CodedError } from '../errors.ts'

export type QueueErrorCode =
  | 'unavailable' // no broker connection, and none came back before the publish deadline
  | 'unroutable' // the broker had no queue bound for the routing key (the topology was removed)
  | 'topology_mismatch' // a queue exists with other arguments than this process declares
  | 'already_settled' // ack/nack of a delivery that was already acked or nacked
  | 'settle_failed' // the ack/nack could not reach the broker; the message will be redelivered
  | 'blob_missing' // a message refers to a stored body that is gone
  | 'handler_failed' // a consumer handler threw after it had settled its delivery

export class QueueError extends CodedError<QueueErrorCode> {
  override name = 'QueueError'
}

/** Where the queue reports errors that have no caller to reject (a listener threw, a late ack failed). */
export type QueueErrorReporter = (err: unknown, context: string) => void

export const reportToConsole: QueueErrorReporter = (err, context) => {
  console.error(`[queue] ${context}:`, err)
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
