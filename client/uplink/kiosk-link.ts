/**
 * The kiosk's link on /ws/kiosk: subscribes to its lines and receives every result of them.
 * Reconnects like the station link; the subscription is sent again on every connection.
 */
import { encodeMessage, parseServerMessage } from '../../shared/protocol/codec.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { ReconnectingSocket, type LinkStatus, type ReconnectingSocketOptions } from './socket.ts'

export type KioskLinkEvent =
  | { type: 'status'; status: LinkStatus }
  | { type: 'subscribed'; lines: string[] }
  | { type: 'result'; result: InspectionResult; receivedAt: number }
  | { type: 'error'; error: WireError }

export interface KioskLinkOptions {
  lines: string[]
  url: () => string
  onEvent: (e: KioskLinkEvent) => void
  socket?: Partial<Pick<ReconnectingSocketOptions, 'backoff' | 'random' | 'handshakeTimeoutMs' | 'silenceTimeoutMs' | 'create'>>
}

export class KioskLink {
  readonly #socket: ReconnectingSocket

  constructor(options: KioskLinkOptions) {
    // kiosks get no periodic message (results come only when frames do), so silence is normal
    this.#socket = new ReconnectingSocket({
      url: options.url,
      ...options.socket,
      onOpen: (send) => send(encodeMessage({ type: 'subscribe', lines: options.lines })),
      onText: (text) => {
        const parsed = parseServerMessage(text)
        if (!parsed.ok) {
          options.onEvent({ type: 'error', error: parsed.error })
          return
        }
        const m = parsed.message
        if (m.type === 'subscribed') {
          this.#socket.markOnline()
          options.onEvent({ type: 'subscribed', lines: m.lines })
        } else if (m.type === 'result') {
          options.onEvent({ type: 'result', result: m.result, receivedAt: Date.now() })
        } else if (m.type === 'error') {
          options.onEvent({ type: 'error', error: m.error })
        }
        // load/credit/settings are station business; a kiosk has nothing to do with them
      },
      onStatus: (status) => options.onEvent({ type: 'status', status }),
    })
  }

  get status(): LinkStatus {
    return this.#socket.status
  }

  start(): void {
    this.#socket.start()
  }

  stop(): void {
    this.#socket.stop()
  }

  retryNow(): void {
    this.#socket.retryNow()
  }
}
