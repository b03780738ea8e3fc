/**
 * One station's connection, transport-free: the uWS adapter (server/gateway/ws.ts) feeds it
 * messages and gives it a socket to answer on; tests drive it with plain objects.
 *
 * Flow control: a station may have `credit` frames in flight. A frame occupies credit from its
 * arrival until its result (or a busy/rejected ack) goes back; a frame over credit is answered
 * `busy` at once and never buffered.
 *
 * Recovery (distributed mode): a result published while this gateway's results connection was
 * down never reaches it, and its frame would hold credit for good. So a frame whose result is
 * overdue is looked up in the results store, where every result is recorded before it is
 * published; one that still has no record long after it could have expired is given up as
 * `rejected` (`lost`), so the credit always comes back.
 */
import type { ModelRef, UplinkSize } from '../../shared/protocol/messages/welcome.ts'
import type { LoadReport } from '../../shared/domain/load.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { encodeMessage, parseClientMessage, type ServerMessage } from '../../shared/protocol/codec.ts'
import type { FrameEnvelope } from '../../shared/protocol/envelope.ts'
import type { BrowserResultMessage } from '../../shared/protocol/messages/browser-result.ts'
import type { HelloMessage } from '../../shared/protocol/messages/hello.ts'
import type { PartEndMessage } from '../../shared/protocol/messages/part-end.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import { SKIP_REASONS } from '../../shared/protocol/messages/skips.ts'
import { canUseLine, canUseStation, type Principal } from '../auth/principal.ts'
import type { Metrics } from '../metrics/metrics.ts'
import type { PartEnd } from '../parts/tracker.ts'
import type { ResultHub } from '../results/hub.ts'
import type { Recorder } from '../results/recorder.ts'
import type { LineSettingsService } from '../lines/line-settings.ts'
import { sniffImageSize } from '../inference/image-header.ts'
import { StorageError } from '../storage/errors.ts'
import { admitBinary, refuseBrowserResult, refuseImageWait, type Refusal } from './admission.ts'
import { EVIDENCE_WAIT_MS, EvidenceBook, wantsEvidence, type EvidenceDeps } from './evidence.ts'
import { FrameRefused, type FrameIngest } from './ingest.ts'

export interface StationSocket {
  send(text: string): void
  bufferedAmount(): number
}

export interface StationDeps {
  ingest: FrameIngest
  hub: ResultHub
  recorder: Recorder
  settings: LineSettingsService
  metrics: Metrics
  credit: number
  maxFrameBytes: number
  maxPixels: number
  models(line: string): { detector: ModelRef; prefilter?: ModelRef }
  /** The size the line's stations send frames at (its detector's input); undefined: full frames. */
  uplink(line: string): UplinkSize | undefined
  load(line: string): LoadReport
  /** Resolves a hello's token (if any) to a principal; the upgrade's principal is used otherwise. */
  authenticate(token: string | undefined): Promise<Principal | null>
  /** Refuses a line that does not exist (or makes it, for an administrator); undefined: every line exists. */
  admitLine?(principal: Principal, line: string): Promise<WireError | null>
  log: { warn(obj: object, msg: string): void }
  /** Absent where results cannot be missed (the in-process bus). */
  recovery?: ResultRecovery
  /** Queues a shadow-checked frame the browser and server disagreed on for review. */
  onShadowDisagreement?(frameId: string, line: string): void
  /** Part tracking; absent, `part-end` messages are answered with an error. */
  parts?: { endPart(end: PartEnd): void }
  /** Evidence on demand (server/ingest/evidence.ts); absent, no original is ever asked for. */
  evidence?: EvidenceDeps
}

export interface ResultRecovery {
  /** A frame accepted this long ago without its result is looked up, then again at this interval, ms. */
  afterMs: number
  /** A frame this old that still has no record is answered `rejected` with code `lost`, ms. */
  giveUpMs: number
  lookup(frameId: string): Promise<InspectionResult | null>
}

interface InFlight {
  /** Stop waiting on the hub. */
  stop: () => void
  receivedAt: number
  /** Set once the queue confirmed it (before that, a store lookup cannot find it). */
  accepted: boolean
  lookedUpAt: number
  /** The camera frame's size, when the station sent it resized (the model-size uplink). */
  from?: { width: number; height: number }
}

/** A browser result whose JPEG has not arrived yet is held this long at most. */
const IMAGE_WAIT_MS = 10_000
const MAX_PENDING_IMAGES = 16

export class StationSession {
  #hello: HelloMessage | undefined
  readonly #inFlight = new Map<string, InFlight>()
  readonly #pendingImages = new Map<string, { message: BrowserResultMessage; timer: ReturnType<typeof setTimeout> }>()
  readonly #evidence = new EvidenceBook()
  #closed = false
  #backendEp: string | undefined
  #releaseLine: (() => void) | undefined
  #recovering = false

  constructor(
    private readonly deps: StationDeps,
    private readonly socket: StationSocket,
    private principal: Principal,
  ) {}

  get line(): string | undefined {
    return this.#hello?.line
  }

  get station(): string | undefined {
    return this.#hello?.station
  }

  get inFlight(): number {
    return this.#inFlight.size
  }

  #send(message: ServerMessage): void {
    if (!this.#closed) this.socket.send(encodeMessage(message))
  }

  #error(error: WireError, ids: { id?: string; frameId?: string } = {}): void {
    this.#send({ type: 'error', ...ids, error })
  }

  /** A text message. */
  async onText(text: string): Promise<void> {
    const parsed = parseClientMessage(text)
    if (!parsed.ok) {
      this.deps.metrics.framesDropped.inc({ reason: 'malformed' })
      this.#error(parsed.error, parsed.id === undefined ? {} : { id: parsed.id })
      return
    }
    const m = parsed.message
    if (m.type === 'hello') return this.#onHello(m)
    if (!this.#hello) return this.#error({ code: 'hello_first', message: 'send hello before anything else' })
    const line = this.#hello.line
    switch (m.type) {
      case 'skips':
        for (const reason of SKIP_REASONS) {
          const n = m.counts[reason]
          if (n) this.deps.metrics.framesSkipped.inc({ line, reason }, n)
        }
        return
      case 'backend':
        if (this.#backendEp) this.deps.metrics.stationBackend.remove({ line, station: this.#hello.station, ep: this.#backendEp })
        this.#backendEp = m.ep
        this.deps.metrics.stationBackend.set({ line, station: this.#hello.station, ep: m.ep }, 1)
        return
      case 'shadow':
        this.deps.metrics.shadowChecks.inc({ line, ep: m.ep })
        // inc(0) too: the series must exist before the first disagreement for rate() to see it
        this.deps.metrics.shadowDisagreements.inc({ line, ep: m.ep }, m.unmatched)
        if (m.unmatched > 0) this.deps.onShadowDisagreement?.(m.frameId, line)
        return
      case 'browser-result':
        return this.#onBrowserResult(m)
      case 'part-end':
        return this.#onPartEnd(m)
      case 'evidence-missing':
        // the station's ring no longer had it: counted and logged, the verdict never waited for it
        if (this.#evidence.take(m.frameId)) {
          this.deps.metrics.evidence.inc({ line, outcome: 'missed' })
          this.deps.log.warn({ frameId: m.frameId, line, station: this.#hello.station, reason: m.reason }, 'a station could not send the evidence asked for')
        }
        return
      case 'subscribe':
        return this.#error({ code: 'wrong_socket', message: 'subscribe on /ws/kiosk, not /ws/station' }, m.id ? { id: m.id } : {})
    }
  }

  #onPartEnd(m: PartEndMessage): void {
    const hello = this.#hello!
    if (!this.deps.parts) return this.#error({ code: 'unavailable', message: 'this server does not track parts' }, m.id ? { id: m.id } : {})
    this.deps.parts.endPart({ line: hello.line, station: hello.station, partId: m.partId, frames: m.frames, reason: m.reason, idSource: m.idSource })
  }

  async #onHello(m: HelloMessage): Promise<void> {
    if (m.token !== undefined) {
      const p = await this.deps.authenticate(m.token)
      if (!p) return this.#error({ code: 'unauthorized', message: 'token not valid' }, m.id ? { id: m.id } : {})
      this.principal = p
    }
    if (this.principal.role !== 'station' && this.principal.role !== 'admin' && this.principal.role !== 'anonymous') {
      return this.#error({ code: 'forbidden', message: `a ${this.principal.role} token cannot stream frames` }, m.id ? { id: m.id } : {})
    }
    if (!canUseLine(this.principal, m.line)) {
      return this.#error({ code: 'forbidden', message: `this token may not stream to line ${m.line}` }, m.id ? { id: m.id } : {})
    }
    if (!canUseStation(this.principal, m.station)) {
      return this.#error({ code: 'forbidden', message: `this tablet is paired as station ${this.principal.station}, not ${m.station}` }, m.id ? { id: m.id } : {})
    }
    const refused = await this.deps.admitLine?.(this.principal, m.line)
    if (refused) return this.#error(refused, m.id ? { id: m.id } : {})
    // results of this line must reach this gateway before the station may send a frame
    const release = await this.deps.hub.holdLine(m.line)
    if (this.#closed) return release()
    this.#releaseLine?.()
    this.#releaseLine = release
    this.#hello = m
    this.deps.settings.touch(m.line)
    this.#send({
      type: 'welcome',
      ...(m.id ? { id: m.id } : {}),
      credit: this.deps.credit,
      maxFrameBytes: this.deps.maxFrameBytes,
      settings: this.deps.settings.get(m.line),
      load: this.deps.load(m.line),
      models: this.deps.models(m.line),
      ...this.#uplink(m.line),
    })
  }

  /**
   * A binary message. `bytes` may be a view of a buffer the transport reuses after this call
   * returns: everything needed later is copied before the first await.
   */
  onBinary(bytes: Uint8Array): Promise<void> {
    const admitted = admitBinary(bytes, this.deps, { hello: this.#hello, inFlight: this.#inFlight, pendingImages: this.#pendingImages, pendingEvidence: this.#evidence.pending })
    if (!admitted.ok) {
      this.#refuse(admitted.refusal)
      return Promise.resolve()
    }
    if (admitted.kind === 'resultImage') return this.#onResultImage(admitted.envelope)
    if (admitted.kind === 'evidence') return this.#onEvidence(admitted.envelope)
    return this.#onFrame(admitted.envelope)
  }

  #refuse(r: Refusal): void {
    if (r.evidence && this.#hello) {
      this.deps.metrics.evidence.inc({ line: this.#hello.line, outcome: 'refused' })
      // a wrong original closes its request; one nobody asked for has none to close
      if (r.frameId !== undefined) this.#evidence.take(r.frameId)
    }
    if (r.dropped) this.deps.metrics.framesDropped.inc({ reason: r.dropped })
    if (r.reply === 'error') this.#error(r.error, r.frameId === undefined ? {} : { frameId: r.frameId })
    else this.#send({ type: 'ack', frameId: r.frameId!, status: r.reply, error: r.error })
  }

  async #onFrame(env: FrameEnvelope): Promise<void> {
    const { frameId } = env
    const receivedAt = Date.now()
    const image = env.payload.slice() // the transport's buffer is neutered after this call
    const stop = this.deps.hub.wait(frameId, {
      result: (r) => this.#deliver(r, receivedAt, env.from),
      failed: (error) => {
        this.#inFlight.delete(frameId)
        this.#send({ type: 'ack', frameId, status: 'rejected', error })
      },
    })
    const flight: InFlight = { stop, receivedAt, accepted: false, lookedUpAt: receivedAt, ...(env.from ? { from: env.from } : {}) }
    this.#inFlight.set(frameId, flight)
    try {
      await this.deps.ingest.submit({
        frameId,
        line: env.line,
        station: env.station,
        capturedAt: env.capturedAt,
        receivedAt,
        mime: env.mime,
        width: env.width,
        height: env.height,
        source: 'ws',
        audit: env.audit,
        ...(env.from ? { from: env.from } : {}),
        ...(env.partId ? { partId: env.partId } : {}),
        image,
      })
      flight.accepted = true
      if (this.#inFlight.has(frameId)) this.#send({ type: 'ack', frameId, status: 'accepted' })
    } catch (err) {
      stop()
      this.#inFlight.delete(frameId)
      if (err instanceof FrameRefused) this.#send({ type: 'ack', frameId, status: err.status, error: err.error })
      else throw err
    }
  }

  #deliver(result: InspectionResult, receivedAt: number, from: InFlight['from']): void {
    this.#inFlight.get(result.frameId)?.stop()
    this.#inFlight.delete(result.frameId)
    const e2e = Date.now() - receivedAt
    const serverStages = ['queue', 'decode', 'infer', 'postprocess', 'record'].reduce((s, k) => s + (result.timings[k] ?? 0), 0)
    const timings = { ...result.timings, push: Math.max(0, e2e - serverStages) }
    this.deps.metrics.e2eSeconds.observe({ source: 'ws' }, e2e / 1000)
    this.deps.metrics.stageSeconds.observe({ stage: 'push' }, timings.push / 1000)
    this.#send({ type: 'result', result: { ...result, timings }, load: this.deps.load(result.line) })
    if (from) this.#askEvidence(result, from)
  }

  /**
   * After the result went out (so the verdict never waits), asks for the camera's original of a
   * frame the station sent resized, when the line's `evidence` setting wants it.
   */
  #askEvidence(result: InspectionResult, from: { width: number; height: number }): void {
    const ev = this.deps.evidence
    if (!ev || this.#closed || !wantsEvidence(ev.mode(result.line), result.verdict)) return
    const line = result.line
    if (this.#evidence.full) {
      this.deps.metrics.evidence.inc({ line, outcome: 'missed' })
      return
    }
    this.#evidence.expect(result.frameId, from, ev.waitMs ?? EVIDENCE_WAIT_MS, () => {
      this.deps.metrics.evidence.inc({ line, outcome: 'missed' })
      this.deps.log.warn({ frameId: result.frameId, line, station: result.station }, 'a station did not answer an evidence request')
    })
    this.deps.metrics.evidence.inc({ line, outcome: 'requested' })
    this.#send({ type: 'evidence-request', frameId: result.frameId })
  }

  async #onEvidence(env: FrameEnvelope): Promise<void> {
    const line = env.line
    const bytes = env.payload.slice() // the transport's buffer is neutered after this call
    // admission saw it asked for, and nothing ran between then and now
    this.#evidence.take(env.frameId)
    const refuse = (code: string, message: string) => {
      this.deps.metrics.evidence.inc({ line, outcome: 'refused' })
      this.#error({ code, message }, { frameId: env.frameId })
    }
    // the header's size is the envelope's claim; the JPEG's own size is what gets stored
    const real = sniffImageSize(bytes)
    if (real && (real.width !== env.width || real.height !== env.height)) return refuse('bad_field', `the image is ${real.width}x${real.height}, the envelope says ${env.width}x${env.height}`)
    try {
      if (await this.deps.evidence!.store(env.frameId, bytes)) this.deps.metrics.evidence.inc({ line, outcome: 'received' })
      else refuse('unknown_frame', 'no result is recorded for this frame')
    } catch (err) {
      if (err instanceof StorageError && err.code === 'invalid') return refuse('bad_image', err.message)
      this.deps.metrics.evidence.inc({ line, outcome: 'missed' })
      this.deps.log.warn({ frameId: env.frameId, err: String(err) }, 'storing a station\'s evidence failed')
    }
  }

  async #onBrowserResult(m: BrowserResultMessage): Promise<void> {
    const r = m.result
    const wrong = refuseBrowserResult(r, this.#hello!)
    if (wrong) return this.#refuse(wrong)
    this.deps.metrics.inferenceSeconds.observe({ model: r.model.name, ep: r.ep, where: 'browser' }, (r.timings.infer ?? 0) / 1000)
    if (!m.hasImage) return this.#recordBrowser(m)
    const full = refuseImageWait(r.frameId, this.#pendingImages.size, MAX_PENDING_IMAGES)
    if (full) return this.#refuse(full)
    // the JPEG follows as a binary envelope; record without it if it never comes
    const timer = setTimeout(() => {
      this.#pendingImages.delete(r.frameId)
      void this.#recordBrowser(m)
    }, IMAGE_WAIT_MS)
    timer.unref?.()
    const previous = this.#pendingImages.get(r.frameId)
    if (previous) clearTimeout(previous.timer)
    this.#pendingImages.set(r.frameId, { message: m, timer })
  }

  async #onResultImage(env: FrameEnvelope): Promise<void> {
    // admission saw it waiting, and nothing ran between then and now
    const pending = this.#pendingImages.get(env.frameId)!
    clearTimeout(pending.timer)
    this.#pendingImages.delete(env.frameId)
    await this.#recordBrowser(pending.message, { mime: env.mime, bytes: env.payload.slice() })
  }

  async #recordBrowser(m: BrowserResultMessage, image?: { mime: string; bytes: Uint8Array }): Promise<void> {
    const r = { ...m.result, source: 'browser' as const }
    try {
      this.deps.metrics.framesReceived.inc({ line: r.line, source: 'browser' })
      await this.deps.recorder.record(r, image)
      this.#send({ type: 'ack', ...(m.id ? { id: m.id } : {}), frameId: r.frameId, status: 'recorded' })
    } catch (err) {
      this.deps.log.warn({ frameId: r.frameId, err: String(err) }, 'recording a browser result failed')
      this.#send({ type: 'ack', frameId: r.frameId, status: 'busy', error: { code: 'unavailable', message: 'could not record the result now; retry' } })
    }
  }

  /**
   * Looks up the accepted frames whose result is overdue (see `StationDeps.recovery`) and sends
   * those found as results; returns how many. Called periodically; one pass at a time.
   */
  async recoverOverdue(now = Date.now()): Promise<number> {
    const r = this.deps.recovery
    if (!r || this.#recovering || this.#closed) return 0
    this.#recovering = true
    let recovered = 0
    try {
      const due = [...this.#inFlight].filter(([, f]) => f.accepted && now - f.lookedUpAt >= r.afterMs)
      for (const [frameId, f] of due) {
        f.lookedUpAt = now
        const result = await r.lookup(frameId)
        // its result may have come the normal way while we looked
        if (this.#inFlight.get(frameId) !== f) continue
        if (result) {
          this.#deliver(result, f.receivedAt, f.from)
          recovered++
        } else if (now - f.receivedAt >= r.giveUpMs) {
          f.stop()
          this.#inFlight.delete(frameId)
          this.deps.metrics.framesDropped.inc({ reason: 'lost' })
          this.#send({ type: 'ack', frameId, status: 'rejected', error: { code: 'lost', message: `no result was recorded for this frame within ${Math.round(r.giveUpMs / 1000)} s` } })
        }
      }
    } finally {
      this.#recovering = false
    }
    return recovered
  }

  sendLoad(): void {
    if (this.#hello) this.#send({ type: 'load', load: this.deps.load(this.#hello.line) })
  }

  /** Asks this station to capture a trigger burst, when it is the one named; true when sent. */
  sendTrigger(line: string, station: string, m: { partId: string; frames: number }): boolean {
    if (this.#closed || this.#hello?.line !== line || this.#hello.station !== station) return false
    this.#send({ type: 'trigger', partId: m.partId, frames: m.frames })
    return true
  }

  sendSettings(line: string): void {
    if (this.#hello?.line === line) this.#send({ type: 'settings', settings: this.deps.settings.get(line), ...this.#uplink(line) })
  }

  #uplink(line: string): { uplink?: UplinkSize } {
    const uplink = this.deps.uplink(line)
    return uplink ? { uplink } : {}
  }

  close(): void {
    this.#closed = true
    this.#releaseLine?.()
    for (const f of this.#inFlight.values()) f.stop()
    this.#inFlight.clear()
    for (const p of this.#pendingImages.values()) clearTimeout(p.timer)
    this.#pendingImages.clear()
    this.#evidence.clear()
    if (this.#hello && this.#backendEp) this.deps.metrics.stationBackend.remove({ line: this.#hello.line, station: this.#hello.station, ep: this.#backendEp })
  }
}
