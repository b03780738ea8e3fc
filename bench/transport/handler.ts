/**
 * The one ingest handler both transport servers run, so that only the WebSocket library differs:
 * answer `hello` with a credit, and for each binary frame decode the envelope, copy the payload
 * out of the transport's buffer (as the gateway must) and reply with a small JSON ack.
 */
import { encodeMessage } from '../../shared/protocol/codec.ts'
import { decodeEnvelope } from '../../shared/protocol/envelope.ts'

export const TRANSPORT_CREDIT = 8
const MAX_FRAME_BYTES = 16 * 1024 * 1024

export interface IngestHandler {
  onText(text: string): void
  onBinary(bytes: Uint8Array): void
  /** Payload bytes copied so far (keeps the copies observable, so nothing can elide them). */
  readonly copiedBytes: number
}

export function ingestHandler(send: (text: string) => void): IngestHandler {
  let copied = 0
  return {
    onText(text) {
      const m = JSON.parse(text) as { type?: string }
      if (m.type === 'hello') send(JSON.stringify({ type: 'welcome', credit: TRANSPORT_CREDIT }))
    },
    onBinary(bytes) {
      const decoded = decodeEnvelope(bytes, { maxPayloadBytes: MAX_FRAME_BYTES })
      if (!decoded.ok) return send(encodeMessage({ type: 'error', error: decoded.error }))
      const payload = decoded.envelope.payload.slice()
      copied += payload.length
      send(encodeMessage({ type: 'ack', frameId: decoded.envelope.frameId, status: 'accepted' }))
    },
    get copiedBytes() {
      return copied
    },
  }
}
