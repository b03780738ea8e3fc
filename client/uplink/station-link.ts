/**
 * The station's uplink on /ws/station: hello/welcome, binary frame envelopes within the server's
 * credit, and the server's ack/result/load/settings/credit/error messages, all parsed with the
 * shared codec. Everything the UI needs leaves as one tagged event stream.
 *
 * A frame sent for server inference is kept (its envelope, in the credit window) until its result
 * or a `busy`/`rejected` answer; when the connection drops first, it is sent again, with the same
 * frame id, ahead of any new frame on the next connection (credit.ts). That is this station's
 * outbox for server frames: bounded by the credit and in memory, unlike the durable outbox of
 * results inferred here (client/outbox/), because a camera frame that waits any longer is about a
 * part that has moved on. Results are handed on once per frame id, so a frame answered on both
 * connections (or twice by the server) shows one result.
 */
import { encodeMessage, parseServerMessage } from '../../shared/protocol/codec.ts'
import { encodeEnvelope, type ImageMime } from '../../shared/protocol/envelope.ts'
import type { AckMessage } from '../../shared/protocol/messages/ack.ts'
import type { BackendMessage } from '../../shared/protocol/messages/backend.ts'
import type { BrowserResultMessage } from '../../shared/protocol/messages/browser-result.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { EvidenceMissingMessage } from '../../shared/protocol/messages/evidence.ts'
import type { PartEndMessage } from '../../shared/protocol/messages/part-end.ts'
import type { ShadowMessage } from '../../shared/protocol/messages/shadow.ts'
import type { SkipsMessage } from '../../shared/protocol/messages/skips.ts'
import type { UplinkSize, WelcomeMessage } from '../../shared/protocol/messages/welcome.ts'
import type { LoadReport } from '../../shared/domain/load.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { LineSettings } from '../../shared/domain/line-settings.ts'
import { CreditWindow, type DropReason, type Released, type UplinkCounts } from './credit.ts'
import { ReconnectingSocket, type LinkStatus, type ReconnectingSocketOptions } from './socket.ts'

/** What the station remembers about a frame it sent, to show the client-side stages with its result. */
export interface FrameMeta {
  capturedAt: number
  width: number
  height: number
  /** Client stages measured so far (capture, prefilter, encode), ms. */
  timings: Record<string, number>
}

export interface SentFrame extends FrameMeta {
  frameId: string
  sentAt: number
  /** When its ack arrived, ms since the epoch. */
  ackedAt?: number
}

export type StationLinkEvent =
  | { type: 'status'; status: LinkStatus }
  | { type: 'welcome'; welcome: WelcomeMessage }
  | { type: 'ack'; ack: AckMessage; frame?: SentFrame }
  | { type: 'result'; result: InspectionResult; frame?: SentFrame; receivedAt: number }
  | { type: 'load'; load: LoadReport }
  | { type: 'trigger'; partId: string; frames: number }
  | { type: 'evidence-request'; frameId: string }
  | { type: 'settings'; settings: LineSettings }
  | { type: 'credit'; credit: number }
  | { type: 'error'; error: WireError; frameId?: string; id?: string }
  | { type: 'counts'; counts: UplinkCounts; inFlight: number; credit: number }

export interface StationLinkOptions {
  line: string
  station: string
  url: () => string
  onEvent: (e: StationLinkEvent) => void
  /** A sent frame without its result (or a busy/rejected ack) after this is counted lost and its credit returned, ms. */
  answerTimeoutMs?: number
  clientVersion?: string
  socket?: Partial<Pick<ReconnectingSocketOptions, 'backoff' | 'random' | 'handshakeTimeoutMs' | 'silenceTimeoutMs' | 'create'>>
}

export interface OutgoingFrame {
  frameId: string
  capturedAt: number
  width: number
  height: number
  mime: ImageMime
  bytes: Uint8Array
  audit?: boolean
  /** Also inferred in the browser, to compare (a shadow check). */
  shadow?: boolean
  /** The camera frame the image was resized from (the model-size uplink); results come back in its pixels. */
  from?: { width: number; height: number }
  /** The part this frame is a view of (trigger burst, presence passage). */
  partId?: string
  /** Client stages measured since the reservation (e.g. encode), ms; kept until its result arrives. */
  timings: Record<string, number>
}

/** Frame ids whose result was handed on, so a second answer for one is not (bounded: the last this many). */
const ANSWERED_KEPT = 256

function sentFrame(r: Released<FrameMeta>): SentFrame {
  const f: SentFrame = { frameId: r.frameId, ...r.meta, sentAt: r.sentAt }
  if (r.ackedAt !== undefined) f.ackedAt = r.ackedAt
  return f
}

export class StationLink {
  readonly #o: StationLinkOptions
  readonly #socket: ReconnectingSocket
  readonly #window = new CreditWindow<FrameMeta>(1)
  #welcome: WelcomeMessage | null = null
  #uplink: UplinkSize | undefined
  #expiry: ReturnType<typeof setInterval> | null = null
  /** Recently answered frame ids, oldest first (a Set keeps insertion order). */
  readonly #answered = new Set<string>()

  constructor(options: StationLinkOptions) {
    this.#o = options
    this.#socket = new ReconnectingSocket({
      url: options.url,
      silenceTimeoutMs: 5_000,
      ...options.socket,
      onOpen: (send) =>
        send(
          encodeMessage({
            type: 'hello',
            line: options.line,
            station: options.station,
            client: { version: options.clientVersion, userAgent: globalThis.navigator?.userAgent.slice(0, 300) },
          }),
        ),
      onText: (text) => this.#onText(text),
      onDisconnect: () => {
        this.#welcome = null
        this.#window.reset()
        this.#emitCounts()
      },
      onStatus: (status) => this.#o.onEvent({ type: 'status', status }),
    })
  }

  get online(): boolean {
    return this.#welcome !== null && this.#socket.status.state === 'online'
  }

  get welcome(): WelcomeMessage | null {
    return this.#welcome
  }

  /** The size the server wants frames at (its model's input), from welcome and each settings change. */
  get uplink(): UplinkSize | undefined {
    return this.#uplink
  }

  get status(): LinkStatus {
    return this.#socket.status
  }

  start(): void {
    this.#socket.start()
    this.#expiry ??= setInterval(() => this.#expireOverdue(), 1_000)
  }

  stop(): void {
    if (this.#expiry) clearInterval(this.#expiry)
    this.#expiry = null
    this.#socket.stop()
  }

  retryNow(): void {
    this.#socket.retryNow()
  }

  /**
   * Takes a credit slot for a frame about to be encoded. False: the frame is dropped (and counted);
   * do not encode it.
   */
  reserve(frameId: string, meta: FrameMeta): boolean {
    if (!this.online) {
      this.#window.countDrop('offline')
      this.#emitCounts()
      return false
    }
    const ok = this.#window.tryReserve(frameId, meta, Date.now())
    if (!ok) this.#emitCounts()
    return ok
  }

  /** Gives back a reserved slot of a frame that will not be sent. */
  cancel(frameId: string, reason: DropReason): void {
    this.#window.cancel(frameId, reason)
    this.#emitCounts()
  }

  /** Sends a reserved frame. False when it could not go (connection dropped meanwhile, too large). */
  send(frame: OutgoingFrame): boolean {
    const max = this.#welcome?.maxFrameBytes
    if (max !== undefined && frame.bytes.length > max) {
      this.cancel(frame.frameId, 'too_large')
      return false
    }
    const now = Date.now()
    // what encoding learnt (the encoded size, the encode time) replaces what was known at reservation
    const size = frame.from ?? frame
    const update = (m: FrameMeta): FrameMeta => ({ ...m, width: size.width, height: size.height, timings: { ...m.timings, ...frame.timings } })
    const envelope = encodeEnvelope({
      kind: 'frame',
      frameId: frame.frameId,
      line: this.#o.line,
      station: this.#o.station,
      capturedAt: frame.capturedAt,
      mime: frame.mime,
      width: frame.width,
      height: frame.height,
      audit: frame.audit ?? false,
      shadow: frame.shadow ?? false,
      ...(frame.from ? { from: frame.from } : {}),
      ...(frame.partId ? { partId: frame.partId } : {}),
      payload: frame.bytes,
    })
    // the envelope is kept until the frame is answered, to send again if the connection drops first
    if (!this.#window.markSent(frame.frameId, now, { update, copy: envelope })) {
      // the slot vanished with the connection it was reserved on; reset() already counted it
      this.#emitCounts()
      return false
    }
    // a socket that is closing refuses it; its close handler then holds the frame for the next one
    this.#socket.send(envelope)
    this.#emitCounts()
    return true
  }

  /** Counts a frame that never got as far as a credit slot (e.g. the worker was behind). */
  drop(reason: DropReason): void {
    this.#window.countDrop(reason)
    this.#emitCounts()
  }

  /**
   * Sends a JSON message of the station's own (skips, backend, shadow) on the live connection.
   * False when there is none: nothing is queued here, the caller keeps what it must resend.
   */
  sendMessage(message: SkipsMessage | BackendMessage | ShadowMessage | PartEndMessage | EvidenceMissingMessage): boolean {
    return this.online && this.#socket.send(encodeMessage(message))
  }

  /**
   * A result inferred in this browser, and for a failing part its image right behind it (the server
   * holds the result until the image arrives). Answered by an ack `recorded` with the frame id.
   */
  sendBrowserResult(result: BrowserResultMessage['result'], image?: { mime: ImageMime; width: number; height: number; bytes: Uint8Array }): boolean {
    if (!this.online) return false
    const message: BrowserResultMessage = { type: 'browser-result', id: result.frameId, result, hasImage: image !== undefined }
    if (!this.#socket.send(encodeMessage(message))) return false
    if (!image) return true
    return this.#socket.send(
      encodeEnvelope({
        kind: 'resultImage',
        frameId: result.frameId,
        line: this.#o.line,
        station: this.#o.station,
        capturedAt: result.capturedAt,
        mime: image.mime,
        width: image.width,
        height: image.height,
        audit: result.audit ?? false,
        shadow: false,
        payload: image.bytes,
      }),
    )
  }

  /**
   * The camera original of a frame the server asked for (`evidence-request`), as an envelope of
   * kind `evidence`. False when it cannot go: offline, or over the server's `maxFrameBytes`.
   */
  sendEvidence(image: { frameId: string; capturedAt: number; mime: ImageMime; width: number; height: number; bytes: Uint8Array }): boolean {
    const max = this.#welcome?.maxFrameBytes
    if (!this.online || (max !== undefined && image.bytes.length > max)) return false
    return this.#socket.send(
      encodeEnvelope({ kind: 'evidence', frameId: image.frameId, line: this.#o.line, station: this.#o.station, capturedAt: image.capturedAt, mime: image.mime, width: image.width, height: image.height, audit: false, shadow: false, payload: image.bytes }),
    )
  }

  #onText(text: string): void {
    const parsed = parseServerMessage(text)
    if (!parsed.ok) {
      this.#o.onEvent({ type: 'error', error: parsed.error })
      return
    }
    const m = parsed.message
    switch (m.type) {
      case 'welcome':
        this.#welcome = m
        this.#uplink = m.uplink
        this.#window.setCredit(m.credit)
        this.#socket.markOnline()
        // before the welcome goes out to the owner, so frames held from the last connection go
        // ahead of any new camera frame
        this.#resendHeld()
        this.#o.onEvent({ type: 'welcome', welcome: m })
        this.#emitCounts()
        return
      case 'credit':
        this.#window.setCredit(m.credit)
        this.#resendHeld()
        this.#o.onEvent({ type: 'credit', credit: m.credit })
        this.#emitCounts()
        return
      case 'ack': {
        const released = this.#window.ack(m.frameId, m.status, Date.now())
        if (released && m.status !== 'accepted') this.#resendHeld()
        const frame = released ? sentFrame(released) : undefined
        this.#o.onEvent(frame ? { type: 'ack', ack: m, frame } : { type: 'ack', ack: m })
        if (m.status === 'rejected' && m.error) this.#o.onEvent({ type: 'error', error: m.error, frameId: m.frameId })
        this.#emitCounts()
        return
      }
      case 'result': {
        const released = this.#window.complete(m.result.frameId)
        if (released) this.#resendHeld()
        const receivedAt = Date.now()
        // a frame sent again may be answered again: the owner (screen, part assembly) hears of its first result only
        if (this.#firstAnswer(m.result.frameId)) {
          this.#o.onEvent(released ? { type: 'result', result: m.result, frame: sentFrame(released), receivedAt } : { type: 'result', result: m.result, receivedAt })
        }
        if (m.load) this.#o.onEvent({ type: 'load', load: m.load })
        if (released) this.#emitCounts()
        return
      }
      case 'load':
        this.#o.onEvent({ type: 'load', load: m.load })
        return
      case 'settings':
        // a new model for the line may want another input size
        this.#uplink = m.uplink
        this.#o.onEvent({ type: 'settings', settings: m.settings })
        return
      case 'error':
        this.#o.onEvent({ type: 'error', error: m.error, ...(m.frameId ? { frameId: m.frameId } : {}), ...(m.id ? { id: m.id } : {}) })
        return
      case 'trigger':
        this.#o.onEvent({ type: 'trigger', partId: m.partId, frames: m.frames })
        return
      case 'evidence-request':
        this.#o.onEvent({ type: 'evidence-request', frameId: m.frameId })
        return
      case 'subscribed':
        this.#o.onEvent({ type: 'error', error: { code: 'unexpected_message', message: `"${m.type}" is not sent to stations` } })
        return
    }
  }

  /** Puts frames held from a dropped connection on this one, as far as the credit allows. */
  #resendHeld(): void {
    if (!this.online) return
    // a socket that refuses one is closing: its close handler holds the frame again
    for (const f of this.#window.resendHeld(Date.now())) this.#socket.send(f.copy)
  }

  /** False when this frame id was answered already. */
  #firstAnswer(frameId: string): boolean {
    if (this.#answered.has(frameId)) return false
    this.#answered.add(frameId)
    if (this.#answered.size > ANSWERED_KEPT) this.#answered.delete(this.#answered.values().next().value!)
    return true
  }

  #expireOverdue(): void {
    if (this.#window.expire(Date.now(), this.#o.answerTimeoutMs ?? 15_000).length > 0) {
      this.#resendHeld()
      this.#emitCounts()
    }
  }

  #emitCounts(): void {
    this.#o.onEvent({ type: 'counts', counts: this.#window.counts(), inFlight: this.#window.inFlight, credit: this.#window.credit })
  }
}
