/**
 * The station's browser-inference side: the worker and its measured backend, the prefilter's
 * hints and skip counts, routing, shadow checks, and the outbox of locally inferred results.
 * The station store owns the capture and the uplink and hands this store the link's events and
 * the session's; the logic lives in plain classes (pipeline/, prefilter/, outbox/, inference/),
 * this store wires them and keeps what the view shows.
 */
import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { LineSettings } from '../../shared/domain/line-settings.ts'
import type { BackendMessage } from '../../shared/protocol/messages/backend.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { SkipReason } from '../../shared/protocol/messages/skips.ts'
import type { WelcomeMessage } from '../../shared/protocol/messages/welcome.ts'
import { BACKEND_BUDGET_MS, BACKEND_RUNS, EVIDENCE_JPEG_QUALITY, HINT_HOLD_MS, JPEG_QUALITY, MAX_IN_WORKER, OUTBOX_MAX_IN_FLIGHT, SHADOW_MAX_AGE_MS } from '../config.ts'
import type { InitReport } from '../inference/api.ts'
import { chooseBackend } from '../inference/backend-choice.ts'
import { InferenceClient } from '../inference/client.ts'
import { IdbOutboxStore, InspectedJournal, openStationDb } from '../outbox/idb-store.ts'
import { Outbox } from '../outbox/outbox.ts'
import type { OutboxCounts } from '../outbox/types.ts'
import { answerEvidence } from '../pipeline/evidence.ts'
import { LatencyEstimates } from '../pipeline/estimates.ts'
import { loadWelcome, saveWelcome } from '../pipeline/last-welcome.ts'
import { AdaptiveRouter, type RouteDecision } from '../pipeline/route.ts'
import { ShadowBook } from '../pipeline/shadow.ts'
import { StationSession, type SessionEvent, type SessionState } from '../pipeline/station-session.ts'
import type { OperatorHint } from '../prefilter/decide.ts'
import { SkipTally, zeroSkips, type SkipCounts } from '../prefilter/skip-tally.ts'
import type { PartAssembler } from '../parts/part-assembler.ts'
import type { StationLink, StationLinkEvent } from '../uplink/station-link.ts'

export type BackendState =
  | { state: 'idle' }
  | { state: 'loading'; since: number }
  /**
   * `measuring`: serving on the quick-to-start backend (WASM) while every candidate is measured in
   * a separate worker (inference/backend-choice.ts); false once the measured fastest is in use.
   */
  | { state: 'ready'; report: InitReport; measuring: boolean }
  /** Models loaded, but no backend initialised: every candidate's error is in the report. */
  | { state: 'unavailable'; report: InitReport; measuring: boolean }
  | { state: 'failed'; error: WireError }

type Models = WelcomeMessage['models']

const modelsKey = (m: Models) => `${m.detector.sha256}/${m.prefilter?.sha256 ?? '-'}`

export const useBrowserInferenceStore = defineStore('browserInference', () => {
  const backend = shallowRef<BackendState>({ state: 'idle' })
  const route = shallowRef<RouteDecision | null>(null)
  /** The last operator hint and when the prefilter last said it; cleared by a good frame. */
  const hint = shallowRef<{ hint: OperatorHint; at: number } | null>(null)
  const lastSkip = ref<SkipReason | null>(null)
  const skipped = ref<SkipCounts>(zeroSkips())
  const audits = ref(0)
  const outbox = ref<OutboxCounts>({ pending: 0, rejected: 0 })
  const localResults = ref(0)
  const shadow = ref({ checks: 0, unmatched: 0 })
  const localMs = ref<number | null>(null)

  let worker: InferenceClient | null = null
  let link: StationLink | null = null
  let pump: Outbox | null = null
  let journal: InspectedJournal | null = null
  let closeDb: (() => void) | null = null
  let where: { line: string; station: string } | null = null
  let loadedKey: string | null = null
  let choice: AbortController | null = null
  let timer: ReturnType<typeof setInterval> | null = null
  let fail: (e: WireError) => void = () => {}
  let skips = new SkipTally()
  let shadowBook = new ShadowBook()
  let estimates = new LatencyEstimates()
  let router = new AdaptiveRouter()

  /** Starts with the station; returns the settings saved from the last welcome, for an offline start. */
  function start(line: string, station: string, l: StationLink, onError: (e: WireError) => void): LineSettings | null {
    stop()
    where = { line, station }
    link = l
    fail = onError
    worker = new InferenceClient()
    timer = setInterval(tick, 1_000)
    void openOutbox(line, station)
    const saved = loadWelcome(line, station)
    if (saved) ensureModels(saved.models)
    return saved?.settings ?? null
  }

  async function openOutbox(line: string, station: string): Promise<void> {
    try {
      const db = await openStationDb()
      if (where?.line !== line || where.station !== station) return db.close()
      closeDb = () => db.close()
      journal = new InspectedJournal(db)
      pump = new Outbox({
        store: new IdbOutboxStore(db),
        line,
        station,
        maxInFlight: OUTBOX_MAX_IN_FLIGHT,
        send: (e) => link?.sendBrowserResult(e.result, e.image) ?? false,
        onCounts: (c) => (outbox.value = c),
        onError: fail,
      })
      await pump.load()
      if (link?.online) pump.online()
    } catch (e) {
      fail({ code: 'outbox_unavailable', message: `results inferred here cannot be kept: ${(e as Error).message}` })
    }
  }

  function tick(): void {
    pump?.tick()
    shadowBook.expire(Date.now(), SHADOW_MAX_AGE_MS)
    if (link) skips.flush((counts) => link!.sendMessage({ type: 'skips', counts }))
  }

  /** Loads (or reloads, for a new model version) the models and chooses the backend by measuring. */
  function ensureModels(models: Models): void {
    const key = modelsKey(models)
    if (key === loadedKey || !worker) return
    loadedKey = key
    choice?.abort()
    const c = new AbortController()
    choice = c
    backend.value = { state: 'loading', since: Date.now() }
    void chooseBackend(worker, models, { runs: BACKEND_RUNS, budgetMs: BACKEND_BUDGET_MS }, c.signal, {
      onReport: adopt,
      onError: fail,
      onFailed: (error) => {
        backend.value = { state: 'failed', error }
        // the next welcome tries again
        loadedKey = null
      },
    })
  }

  function adopt(report: InitReport, measuring: boolean): void {
    backend.value = report.ep ? { state: 'ready', report, measuring } : { state: 'unavailable', report, measuring }
    const chosen = report.candidates.find((c) => c.ep === report.ep)
    estimates.local.reset(chosen?.detectorMs ?? null)
    localMs.value = estimates.local.value
    sendBackend()
  }

  function sendBackend(): void {
    const b = backend.value
    if (!link || (b.state !== 'ready' && b.state !== 'unavailable')) return
    const message: BackendMessage = {
      type: 'backend',
      ep: b.report.ep ?? 'none',
      candidates: b.report.candidates.map((c) => ({
        ep: c.ep,
        ok: c.ok,
        ...(c.prefilterMs !== undefined ? { prefilterMs: c.prefilterMs } : {}),
        ...(c.detectorMs !== undefined ? { detectorMs: c.detectorMs } : {}),
        ...(c.error !== undefined ? { error: c.error.slice(0, 500) } : {}),
      })),
    }
    link.sendMessage(message)
  }

  function onLinkEvent(e: StationLinkEvent): void {
    switch (e.type) {
      case 'welcome':
        if (where) saveWelcome(where.line, where.station, e.welcome)
        ensureModels(e.welcome.models)
        sendBackend()
        pump?.online()
        return
      case 'status':
        if (e.status.state !== 'online') pump?.offline()
        return
      case 'ack':
        pump?.onAck(e.ack)
        if (e.ack.status === 'accepted' && e.frame?.ackedAt !== undefined) estimates.uplink.add(e.frame.ackedAt - e.frame.sentAt)
        return
      case 'result': {
        if (e.frame && where) void record(e.result.frameId, 'server')
        const check = shadowBook.resolve(e.result)
        if (check && link?.sendMessage(check)) shadow.value = { checks: shadow.value.checks + 1, unmatched: shadow.value.unmatched + check.unmatched }
        return
      }
      case 'error':
        if (e.id) pump?.onError(e.id, e.error)
        return
      case 'evidence-request':
        if (worker && link) void answerEvidence(e.frameId, worker, link, { mime: 'image/jpeg', quality: EVIDENCE_JPEG_QUALITY })
        return
      default:
        return
    }
  }

  async function record(frameId: string, at: 'server' | 'browser'): Promise<void> {
    if (!journal || !where) return
    try {
      await journal.add({ frameId, line: where.line, station: where.station, where: at, at: Date.now() })
    } catch (e) {
      fail({ code: 'journal_failed', message: (e as Error).message })
    }
  }

  function onSessionEvent(e: SessionEvent): void {
    switch (e.type) {
      case 'prefilter':
        if (e.verdict.skip) {
          lastSkip.value = e.verdict.skip
          skipped.value = { ...skips.total }
          if (e.audit) audits.value++
          if (e.verdict.hint) hint.value = { hint: e.verdict.hint, at: Date.now() }
        } else {
          lastSkip.value = null
          // held a moment, so alternating good and bad frames do not make the hint flicker
          if (hint.value && Date.now() - hint.value.at > HINT_HOLD_MS) hint.value = null
        }
        return
      case 'routed':
        if (route.value?.target !== e.decision.target || route.value.reason !== e.decision.reason) route.value = e.decision
        return
      case 'local-result':
        localResults.value++
        localMs.value = estimates.local.value
        void storeLocal(e)
        return
      default:
        return
    }
  }

  async function storeLocal(e: Extract<SessionEvent, { type: 'local-result' }>): Promise<void> {
    if (!pump) {
      fail({ code: 'outbox_unavailable', message: `result of frame ${e.result.frameId} could not be kept: no outbox` })
      return
    }
    try {
      await pump.add(e.result, e.image)
      await record(e.result.frameId, 'browser')
    } catch (err) {
      fail({ code: 'outbox_failed', message: `result of frame ${e.result.frameId} could not be kept: ${(err as Error).message}` })
    }
  }

  function createSession(o: { line: string; station: string; state: () => Omit<SessionState, 'local'>; onEvent: (e: SessionEvent) => void; parts?: PartAssembler }): StationSession {
    if (!link || !worker) throw new Error('start the browser-inference store before creating a session')
    return new StationSession({
      line: o.line,
      station: o.station,
      link,
      worker,
      router,
      estimates,
      skips,
      shadow: shadowBook,
      encodeOptions: { mime: 'image/jpeg', quality: JPEG_QUALITY },
      maxInWorker: MAX_IN_WORKER,
      ...(o.parts ? { parts: o.parts } : {}),
      state: () => {
        const b = backend.value
        const local = b.state === 'ready' && b.report.ep ? { ep: b.report.ep, detector: b.report.detector, prefilter: b.report.prefilter !== null } : null
        return { ...o.state(), local }
      },
      onEvent: (e) => {
        onSessionEvent(e)
        o.onEvent(e)
      },
    })
  }

  function stop(): void {
    if (timer) clearInterval(timer)
    timer = null
    choice?.abort()
    choice = null
    // counts not yet reported go with the connection that is still open
    if (link) skips.flush((counts) => link!.sendMessage({ type: 'skips', counts }))
    worker?.terminate()
    worker = null
    link = null
    pump = null
    journal = null
    closeDb?.()
    closeDb = null
    where = null
    loadedKey = null
    skips = new SkipTally()
    shadowBook = new ShadowBook()
    estimates = new LatencyEstimates()
    router = new AdaptiveRouter()
    backend.value = { state: 'idle' }
    route.value = null
    hint.value = null
    lastSkip.value = null
    skipped.value = zeroSkips()
    audits.value = localResults.value = 0
    outbox.value = { pending: 0, rejected: 0 }
    shadow.value = { checks: 0, unmatched: 0 }
    localMs.value = null
  }

  return { backend, route, hint, lastSkip, skipped, audits, outbox, localResults, shadow, localMs, start, stop, onLinkEvent, createSession }
})
