/**
 * One captured frame's way through the station:
 *
 *   admit to the worker (bitmap transferred) -> prefilter -> skip (counted; a sampled few still go,
 *   flagged audit) -> route -> server: credit, encode, send (a sampled few also inferred here, the
 *   shadow check) | browser: detect here, JPEG of a failing part, result to the outbox | none.
 *
 * No Vue and no DOM here beyond the bitmap. Every frame ends in exactly one place: sent, inferred
 * here, skipped, or dropped (counted by the uplink).
 */
import type { LoadReport } from '../../shared/domain/load.ts'
import type { DetectManifest } from '../../shared/domain/manifest.ts'
import { evidenceMode, type LineSettings } from '../../shared/domain/line-settings.ts'
import { stationInspection } from '../../shared/domain/inspection.ts'
import { withinRoi } from '../../shared/domain/roi.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { GrabbedFrame } from '../capture/grabber.ts'
import { newFrameId } from '../capture/frame-id.ts'
import type { Admitted, EncodeOptions, Finished, FinishOptions, LocalEp, WorkerReply } from '../inference/api.ts'
import type { BrowserResult, OutboxImage } from '../outbox/types.ts'
import type { PartAssembler } from '../parts/part-assembler.ts'
import { decidePrefilter, type PrefilterOutputs, type PrefilterVerdict } from '../prefilter/decide.ts'
import { MODEL_SIZE_JPEG_QUALITY } from '../config.ts'
import type { SkipTally } from '../prefilter/skip-tally.ts'
import type { StationLink } from '../uplink/station-link.ts'
import { browserResult, localMs } from './browser-result.ts'
import type { LatencyEstimates } from './estimates.ts'
import type { FrameRouter, RouteDecision } from './route.ts'
import type { ShadowBook } from './shadow.ts'

export type SessionEvent =
  | { type: 'prefilter'; frameId: string; verdict: PrefilterVerdict; outputs: PrefilterOutputs; audit: boolean }
  | { type: 'routed'; decision: RouteDecision }
  | { type: 'sent'; frameId: string; bytes: number; audit: boolean; shadow: boolean; partId?: string; image?: OutboxImage }
  | { type: 'local-result'; result: BrowserResult; image?: OutboxImage }
  | { type: 'error'; error: WireError }

/** What the session reads afresh for every frame. */
export interface SessionState {
  settings: LineSettings | null
  load: LoadReport | null
  /** The local backend, once the worker has chosen one. */
  local: { ep: LocalEp; detector: DetectManifest; prefilter: boolean } | null
}

export interface FrameWorker {
  admit(frameId: string, bitmap: ImageBitmap, options: { prefilter: boolean }): Promise<WorkerReply<Admitted>>
  finish(frameId: string, options: FinishOptions): Promise<WorkerReply<Finished>>
  release(frameId: string): void
  /** The first barcode / QR / DataMatrix in the held frame, or null; absent where codes are not read. */
  readCode?(frameId: string): Promise<WorkerReply<string | null>>
}

export interface StationSessionOptions {
  line: string
  station: string
  link: Pick<StationLink, 'reserve' | 'send' | 'cancel' | 'drop' | 'online' | 'uplink'>
  worker: FrameWorker
  router: FrameRouter
  state: () => SessionState
  estimates: LatencyEstimates
  skips: SkipTally
  shadow: ShadowBook
  encodeOptions: EncodeOptions
  /** Frames in the worker at once; beyond it a frame is dropped as 'encoder' (the worker is behind). */
  maxInWorker: number
  random?: () => number
  /** Parts (trigger and presence modes); absent, every frame stands alone. */
  parts?: PartAssembler
  onEvent: (e: SessionEvent) => void
}

interface Frame {
  id: string
  capturedAt: number
  width: number
  height: number
  audit: boolean
  timings: Record<string, number>
  partId?: string
  /** Claimed by a part (a burst, or a presence passage): it waits for the part's choice. */
  inPart: boolean
  /** Counted in the frames at work in the worker. */
  counted: boolean
}

export class StationSession {
  readonly #o: StationSessionOptions
  readonly #random: () => number
  #inWorker = 0

  constructor(options: StationSessionOptions) {
    this.#o = options
    this.#random = options.random ?? Math.random
  }

  /** Takes ownership of the frame's bitmap. */
  handleFrame(grabbed: GrabbedFrame): void {
    const frame: Frame = { id: newFrameId(), capturedAt: grabbed.capturedAt, width: grabbed.width, height: grabbed.height, audit: false, timings: { capture: grabbed.captureMs }, inPart: false, counted: false }
    const parts = this.#o.parts
    parts?.followMode()
    if (parts?.mode === 'trigger') {
      // a camera waiting for its trigger inspects nothing
      if (!parts.claimForBurst(frame.id)) return grabbed.bitmap.close()
      frame.inPart = true
    }
    if (this.#inWorker >= this.#o.maxInWorker) {
      grabbed.bitmap.close()
      this.#o.link.drop('encoder')
      parts?.settle(frame.id, false)
      return
    }
    this.#count(frame, true)
    this.#process(frame, grabbed)
      .then(
        (handedOff) => parts?.settle(frame.id, handedOff),
        (e: unknown) => {
          parts?.settle(frame.id, false)
          this.#o.onEvent({ type: 'error', error: { code: 'pipeline_failed', message: (e as Error).message } })
        },
      )
      .finally(() => this.#count(frame, false))
  }

  /** Frames at work in the worker; a part's frame waiting for its part to choose is not at work. */
  #count(frame: Frame, counted: boolean): void {
    if (frame.counted === counted) return
    frame.counted = counted
    this.#inWorker += counted ? 1 : -1
  }

  /** True when the frame was handed off: sent to the server or inferred here. */
  async #process(frame: Frame, grabbed: GrabbedFrame): Promise<boolean> {
    const { worker, link } = this.#o
    const before = this.#o.state()
    const prefilter = before.settings?.prefilter.enabled === true && before.local?.prefilter === true
    const admitted = await worker.admit(frame.id, grabbed.bitmap, { prefilter })
    if (!admitted.ok) {
      link.drop('error')
      this.#failed(admitted.error)
      return false
    }
    frame.width = admitted.value.width
    frame.height = admitted.value.height

    let s = this.#o.state()
    const pre = admitted.value.prefilter
    if (pre && s.settings) {
      frame.timings.prefilter = pre.ms
      const verdict = decidePrefilter(pre.outputs, s.settings.prefilter, pre.hasReference)
      if (verdict.skip) {
        this.#o.skips.add(verdict.skip)
        frame.audit = this.#random() < s.settings.auditFraction
      }
      this.#o.onEvent({ type: 'prefilter', frameId: frame.id, verdict, outputs: pre.outputs, audit: frame.audit })
      const parts = this.#o.parts
      if (parts?.mode === 'presence') {
        // a passage is inspected in its sharpest usable frames, whatever their change from the last one sent
        const usable = verdict.skip === null || verdict.skip === 'unchanged'
        if (!parts.observePresence(frame.id, pre.outputs.part_present, s.settings.prefilter.partPresent, usable)) {
          worker.release(frame.id)
          return false
        }
        frame.inPart = true
        frame.audit = false
      } else if (verdict.skip && !frame.audit && !frame.inPart) {
        worker.release(frame.id)
        return false
      }
    }
    // a passage cannot end without the prefilter's part-present score: end it with what it has
    if (!pre && this.#o.parts?.mode === 'presence') this.#o.parts.end()
    if (frame.inPart && this.#o.parts) {
      const partId = await this.#placeInPart(frame, this.#o.parts, pre?.outputs.sharpness ?? 0)
      if (!partId) {
        worker.release(frame.id)
        return false
      }
      frame.partId = partId
    }

    // a part's frame may have waited: route it with the state of now
    if (frame.inPart) s = this.#o.state()
    const decision = this.#o.router.route({
      now: Date.now(),
      policy: s.settings?.policy ?? null,
      load: s.load,
      serverOnline: link.online,
      localReady: s.local !== null,
      localMs: this.#o.estimates.local.value,
      serverOverheadMs: this.#o.estimates.serverOverheadMs(),
    })
    this.#o.onEvent({ type: 'routed', decision })
    if (decision.target === 'server') return this.#toServer(frame, s)
    if (decision.target === 'browser' && s.local) return this.#toBrowser(frame, s, s.local.detector)
    worker.release(frame.id)
    link.drop('offline')
    return false
  }

  /**
   * A part's frame: its code read while the part has no id, then it waits, not counted as at work,
   * for the part to choose its frames (the sharpest of a passage, all of a burst).
   */
  async #placeInPart(frame: Frame, parts: PartAssembler, sharpness: number): Promise<string | null> {
    if (parts.wantsCode(frame.id) && this.#o.worker.readCode) {
      const read = await this.#o.worker.readCode(frame.id)
      // a reader that cannot run is not a reason to lose the frame: the part takes the sequence
      parts.offerCode(frame.id, read.ok ? read.value : null)
      if (!read.ok) this.#codeError(read.error)
    }
    this.#count(frame, false)
    const partId = await parts.place(frame.id, sharpness)
    this.#count(frame, true)
    return partId
  }

  #codeErrorShown = false
  #codeError(error: WireError): void {
    if (this.#codeErrorShown) return
    this.#codeErrorShown = true
    this.#failed(error)
  }

  #finishOptions(s: SessionState, o: Pick<FinishOptions, 'encode' | 'detect' | 'reference'>, fit?: { width: number; height: number }): FinishOptions {
    // a plain copy: the settings may be a reactive proxy, which cannot be posted to the worker
    const encodeOptions = { ...this.#o.encodeOptions, ...(fit ? { fit: { width: fit.width, height: fit.height }, quality: MODEL_SIZE_JPEG_QUALITY } : {}) }
    return { ...o, encodeOptions, scoreOverrides: { ...s.settings?.scoreThresholds } }
  }

  async #toServer(frame: Frame, s: SessionState): Promise<boolean> {
    const { worker, link } = this.#o
    if (!link.reserve(frame.id, { capturedAt: frame.capturedAt, width: frame.width, height: frame.height, timings: frame.timings })) {
      worker.release(frame.id)
      return false
    }
    const shadow = !frame.audit && s.local !== null && this.#random() < (s.settings?.shadowFraction ?? 0)
    // an audit frame was judged unchanged/blurred/...: it must not become the reference
    // frames for the server go at its model's size; a local result's evidence image stays full size
    // a frame sent resized keeps its camera original in the worker's ring, should the server ask for it
    const keepOriginal = link.uplink !== undefined && s.settings !== null && evidenceMode(s.settings) !== 'never'
    const done = await worker.finish(frame.id, { ...this.#finishOptions(s, { encode: 'always', detect: shadow, reference: !frame.audit }, link.uplink), keepOriginal })
    if (!done.ok || !done.value.encoded) {
      link.cancel(frame.id, 'error')
      this.#failed(done.ok ? { code: 'encode_failed', message: 'the worker returned no image' } : done.error)
      return false
    }
    const e = done.value.encoded
    this.#o.estimates.encode.add(e.encodeMs)
    const d = done.value.detection
    if (d) {
      this.#o.estimates.local.add(localMs(d))
      // compared with the server's result, which left out what lies outside the station's region of interest
      this.#o.shadow.expect(frame.id, withinRoi(d.detections, frame.width, frame.height, stationInspection(s.settings?.inspection, this.#o.station).roi), d.ep, Date.now())
    }
    // the bytes stay the caller's: the station keeps a part's inspected image to draw its verdict on
    const sent = link.send({ frameId: frame.id, capturedAt: frame.capturedAt, width: e.width, height: e.height, mime: e.mime, bytes: e.bytes, audit: frame.audit, shadow: d !== undefined, ...(e.from ? { from: e.from } : {}), ...(frame.partId ? { partId: frame.partId } : {}), timings: { encode: e.encodeMs } })
    // every sent frame's image goes with the event: the station draws a verdict on the image it belongs to
    if (sent) this.#o.onEvent({ type: 'sent', frameId: frame.id, bytes: e.bytes.length, audit: frame.audit, shadow: d !== undefined, ...(frame.partId ? { partId: frame.partId } : {}), image: { mime: e.mime, width: e.width, height: e.height, bytes: e.bytes } })
    else this.#o.shadow.forget(frame.id)
    return sent
  }

  async #toBrowser(frame: Frame, s: SessionState, manifest: DetectManifest): Promise<boolean> {
    const done = await this.#o.worker.finish(frame.id, this.#finishOptions(s, { encode: 'if-fail', detect: true, reference: !frame.audit }))
    if (!done.ok || !done.value.detection) {
      this.#o.link.drop('error')
      this.#failed(done.ok ? { code: 'detect_failed', message: 'the worker returned no detections' } : done.error)
      return false
    }
    const d = done.value.detection
    this.#o.estimates.local.add(localMs(d))
    const e = done.value.encoded
    if (e) frame.timings.encode = e.encodeMs
    const result = browserResult({ frameId: frame.id, line: this.#o.line, station: this.#o.station, capturedAt: frame.capturedAt, width: frame.width, height: frame.height, audit: frame.audit, timings: frame.timings }, manifest, d, stationInspection(s.settings?.inspection, this.#o.station).roi)
    if (frame.partId) result.partId = frame.partId
    this.#o.onEvent(e ? { type: 'local-result', result, image: { mime: e.mime, width: e.width, height: e.height, bytes: e.bytes } } : { type: 'local-result', result })
    return true
  }

  #failed(error: WireError): void {
    this.#o.onEvent({ type: 'error', error })
  }
}
