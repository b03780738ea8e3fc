/**
 * One captured frame's way through the station: route -> take credit -> encode in the worker ->
 * send. No Vue and no DOM here beyond the bitmap, so the browser-inference step slots in as
 * another branch of the routing decision rather than a rewrite.
 *
 * Every frame ends in exactly one place: sent, dropped (counted by the uplink), or skipped.
 */
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { GrabbedFrame } from '../capture/grabber.ts'
import { newFrameId } from '../capture/frame-id.ts'
import type { EncodedFrame, EncodeOptions, WorkerReply } from '../inference/api.ts'
import type { StationLink } from '../uplink/station-link.ts'
import type { FrameRouter, RouteContext, RouteDecision } from './route.ts'

export type SessionEvent =
  | { type: 'sent'; frameId: string; bytes: number }
  | { type: 'routed'; decision: RouteDecision }
  | { type: 'error'; error: WireError }

export interface StationSessionOptions {
  link: Pick<StationLink, 'reserve' | 'send' | 'cancel'>
  encoder: { encode(bitmap: ImageBitmap, options: EncodeOptions): Promise<WorkerReply<EncodedFrame>> }
  router: FrameRouter
  context: () => RouteContext
  encodeOptions: EncodeOptions
  maxEncoding: number
  onEvent: (e: SessionEvent) => void
}

export class StationSession {
  readonly #o: StationSessionOptions
  #encoding = 0

  constructor(options: StationSessionOptions) {
    this.#o = options
  }

  /** Takes ownership of the frame's bitmap. */
  handleFrame(frame: GrabbedFrame): void {
    const decision = this.#o.router.route(this.#o.context())
    if (decision.target !== 'server') {
      // no local inference yet: a router that says otherwise is a programming error, made visible
      frame.bitmap.close()
      this.#o.onEvent({ type: 'routed', decision })
      return
    }
    const frameId = newFrameId()
    if (!this.#o.link.reserve(frameId, { capturedAt: frame.capturedAt, width: frame.width, height: frame.height, timings: { capture: frame.captureMs } })) {
      frame.bitmap.close()
      return
    }
    if (this.#encoding >= this.#o.maxEncoding) {
      frame.bitmap.close()
      this.#o.link.cancel(frameId, 'encoder')
      return
    }
    this.#encoding++
    void this.#encodeAndSend(frameId, frame).finally(() => this.#encoding--)
  }

  async #encodeAndSend(frameId: string, frame: GrabbedFrame): Promise<void> {
    const encoded = await this.#o.encoder.encode(frame.bitmap, this.#o.encodeOptions)
    if (!encoded.ok) {
      this.#o.link.cancel(frameId, 'error')
      this.#o.onEvent({ type: 'error', error: encoded.error })
      return
    }
    const e = encoded.value
    const sent = this.#o.link.send({ frameId, capturedAt: frame.capturedAt, width: e.width, height: e.height, mime: e.mime, bytes: e.bytes, timings: { encode: e.encodeMs } })
    if (sent) this.#o.onEvent({ type: 'sent', frameId, bytes: e.bytes.length })
  }
}
