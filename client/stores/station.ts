/**
 * The station: its capture source, its uplink and what came back. The store wires the pieces
 * (capture -> session -> uplink) and keeps the reactive state the views draw; the pieces
 * themselves know nothing of Vue.
 */
import { defineStore } from 'pinia'
import { computed, markRaw, ref, shallowRef } from 'vue'
import type { LoadReport } from '../../shared/domain/load.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { LineSettings } from '../../shared/domain/line-settings.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'
import type { WelcomeMessage } from '../../shared/protocol/messages/welcome.ts'
import { listCameras, openCamera, type CameraInfo } from '../capture/camera.ts'
import { openDemo } from '../capture/demo.ts'
import { startGrabber, type GrabMethod, type Grabber } from '../capture/grabber.ts'
import type { CaptureSource, SourceKind, SourceResult } from '../capture/source.ts'
import { loadSourceChoice, saveSourceChoice, type SourceChoice } from '../capture/source-choice.ts'
import { ANSWER_TIMEOUT_MS, APP_VERSION, DEFAULT_CAPTURE_FPS } from '../config.ts'
import { FrameStill } from '../pipeline/frame-still.ts'
import type { StationSession } from '../pipeline/station-session.ts'
import { stationInspection } from '../../shared/domain/inspection.ts'
import { soundAlarm } from '../parts/alarm.ts'
import { PartAssembler } from '../parts/part-assembler.ts'
import { PartScreen, type PartView } from '../parts/part-screen.ts'
import { emptyCounts, type UplinkCounts } from '../uplink/credit.ts'
import { StationLink, type SentFrame, type StationLinkEvent } from '../uplink/station-link.ts'
import { wsUrl } from '../uplink/url.ts'
import { useBrowserInferenceStore } from './browser-inference.ts'
import { useConnectionStore } from './connection.ts'

export interface LatestResult {
  result: InspectionResult
  /** The frame as the station sent it (client timings, size); absent for a result it cannot match or inferred here. */
  frame?: SentFrame
  receivedAt: number
}

export interface SourceInfo {
  kind: SourceKind
  label: string
  deviceId?: string
}

export const useStationStore = defineStore('station', () => {
  const connection = useConnectionStore()
  const local = useBrowserInferenceStore()

  const line = ref<string | null>(null)
  const station = ref<string | null>(null)
  const source = ref<SourceInfo | null>(null)
  /** Why the station shows the demo instead of a camera (denied, none found...). */
  const sourceError = ref<WireError | null>(null)
  const opening = ref(false)
  const stream = shallowRef<MediaStream | null>(null)
  const cameras = ref<CameraInfo[]>([])
  const grabMethod = ref<GrabMethod | null>(null)
  const paused = ref(false)

  const settings = ref<LineSettings | null>(null)
  const load = ref<LoadReport | null>(null)
  const models = ref<WelcomeMessage['models'] | null>(null)
  const credit = ref(0)
  const inFlight = ref(0)
  const counts = ref<UplinkCounts>(emptyCounts())
  const latest = shallowRef<LatestResult | null>(null)
  const results = ref(0)
  const lastError = ref<(WireError & { at: number }) | null>(null)

  const captureFps = computed(() => settings.value?.captureFps ?? DEFAULT_CAPTURE_FPS)
  const inspection = computed(() => stationInspection(settings.value?.inspection, station.value ?? ''))
  /** The part on screen (the held failing one, else the latest) and the held one; copies, redrawn on change. */
  const partShown = shallowRef<PartView | null>(null)
  const partHeld = shallowRef<PartView | null>(null)
  /** Continuous mode: the latest inspected frame with its own result (client/pipeline/frame-still.ts). */
  const frameShown = shallowRef<PartView | null>(null)
  let still: FrameStill | null = null
  /** Failing parts alarmed since the station started (the e2e checks the alarm against it). */
  const alarms = ref(0)
  let assembler: PartAssembler | null = null
  let screen: PartScreen | null = null

  let link: StationLink | null = null
  let session: StationSession | null = null
  let captureSource: CaptureSource | null = null
  let grabber: Grabber | null = null
  // bumps on every start/stop so a source that finishes opening after the station moved on is closed
  let generation = 0

  function fail(error: WireError): void {
    lastError.value = { ...error, at: Date.now() }
  }

  function onLinkEvent(e: StationLinkEvent): void {
    local.onLinkEvent(e)
    switch (e.type) {
      case 'status':
        connection.report('station', e.status)
        return
      case 'welcome':
        settings.value = e.welcome.settings
        load.value = e.welcome.load
        models.value = e.welcome.models
        return
      case 'settings':
        settings.value = e.settings
        return
      case 'load':
        load.value = e.load
        return
      case 'credit':
        return
      case 'counts':
        counts.value = e.counts
        inFlight.value = e.inFlight
        credit.value = e.credit
        return
      case 'ack':
        return
      case 'result':
        results.value++
        latest.value = e.frame ? { result: e.result, frame: e.frame, receivedAt: e.receivedAt } : { result: e.result, receivedAt: e.receivedAt }
        screen?.addResult(e.result)
        if (!e.result.partId && inspection.value.mode === 'continuous') still?.addResult(e.result)
        return
      case 'trigger':
        assembler?.trigger(e.partId, e.frames)
        return
      case 'error':
        fail(e.error)
        return
    }
  }

  function newPartScreen(): PartScreen {
    const copy = (p: PartView | null) => (p ? { ...p, images: p.images.map((i) => ({ ...i })) } : null)
    const s: PartScreen = new PartScreen({
      rule: () => inspection.value.rule,
      holdFailures: () => inspection.value.holdFailures,
      onFail: () => {
        alarms.value++
        if (!inspection.value.muted) soundAlarm()
      },
      onChange: () => {
        partShown.value = copy(s.shown)
        partHeld.value = copy(s.held)
      },
    })
    return s
  }

  /** A key or foot pedal at the station (trigger mode): one burst, its id from a code in its frames, else the station's sequence. */
  function triggerPart(): boolean {
    if (!assembler || inspection.value.mode !== 'trigger') return false
    assembler.trigger()
    return true
  }

  function acknowledge(): void {
    screen?.acknowledge()
  }

  async function openSource(choice: SourceChoice | null): Promise<SourceResult> {
    if (choice?.kind === 'demo') return openDemo({ fps: () => captureFps.value })
    let cam = await openCamera(choice?.deviceId)
    // the remembered camera may be gone (unplugged, another tablet): any camera beats the demo
    if (!cam.ok && choice?.kind === 'camera' && cam.error.code === 'no_camera') cam = await openCamera()
    if (cam.ok) return cam
    sourceError.value = cam.error
    return openDemo({ fps: () => captureFps.value })
  }

  async function useSource(choice: SourceChoice | null): Promise<void> {
    const mine = ++generation
    closeSource()
    opening.value = true
    sourceError.value = null
    const opened = await openSource(choice)
    if (mine !== generation) {
      if (opened.ok) opened.source.stop()
      return
    }
    opening.value = false
    if (!opened.ok) {
      fail(opened.error)
      return
    }
    captureSource = opened.source
    stream.value = markRaw(opened.source.stream)
    source.value = { kind: opened.source.kind, label: opened.source.label, ...(opened.source.deviceId ? { deviceId: opened.source.deviceId } : {}) }
    if (opened.source.kind === 'camera') {
      try {
        cameras.value = await listCameras()
      } catch (e) {
        fail({ code: 'camera_list_failed', message: (e as Error).message })
      }
    }
    startGrabbing()
  }

  function startGrabbing(): void {
    if (!captureSource || !session || paused.value) return
    const s = session
    grabber = startGrabber({
      stream: captureSource.stream,
      fps: () => captureFps.value,
      onFrame: (frame) => s.handleFrame(frame),
      onError: (error) => {
        fail(error)
        // an unplugged camera: open the remembered source again, which falls back to the demo
        if (error.code === 'track_ended' && line.value && station.value) void useSource(loadSourceChoice(line.value, station.value))
      },
    })
    grabMethod.value = grabber.method
  }

  function stopGrabbing(): void {
    grabber?.stop()
    grabber = null
  }

  function closeSource(): void {
    stopGrabbing()
    captureSource?.stop()
    captureSource = null
    stream.value = null
    source.value = null
  }

  async function start(lineId: string, stationId: string): Promise<void> {
    stop()
    line.value = lineId
    station.value = stationId
    link = new StationLink({
      line: lineId,
      station: stationId,
      url: () => wsUrl('/ws/station'),
      onEvent: onLinkEvent,
      answerTimeoutMs: ANSWER_TIMEOUT_MS,
      clientVersion: APP_VERSION,
    })
    // a station opened during an outage inspects with what the last welcome said until the server is back
    settings.value = local.start(lineId, stationId, link, fail)
    const partLink = link
    screen = newPartScreen()
    const partScreen = screen
    still = new FrameStill({ onChange: (v) => (frameShown.value = v ? { ...v, images: v.images.map((i) => ({ ...i })) } : null) })
    const frameStill = still
    assembler = new PartAssembler({
      station: stationId,
      view: () => inspection.value,
      onEnd: (end) => {
        // offline, the server closes the part after PART_IDLE_MS instead
        partLink.sendMessage({ type: 'part-end', ...end })
        partScreen.end(end.partId)
      },
    })
    session = local.createSession({
      parts: assembler,
      line: lineId,
      station: stationId,
      state: () => ({ settings: settings.value, load: load.value }),
      onEvent: (e) => {
        if (e.type === 'error') fail(e.error)
        else if (e.type === 'sent' && e.image) {
          if (e.partId) partScreen.addImage(e.partId, e.frameId, e.image)
          else if (inspection.value.mode === 'continuous') frameStill.addImage(e.frameId, e.image)
        } else if (e.type === 'local-result') {
          results.value++
          latest.value = { result: e.result, receivedAt: Date.now() }
          if (e.result.partId && e.image) partScreen.addImage(e.result.partId, e.result.frameId, e.image)
          partScreen.addResult(e.result)
          if (!e.result.partId && inspection.value.mode === 'continuous') frameStill.addResult(e.result, e.image)
        }
      },
    })
    link.start()
    await useSource(loadSourceChoice(lineId, stationId))
  }

  function stop(): void {
    generation++
    closeSource()
    local.stop()
    link?.stop()
    link = null
    session = null
    assembler = null
    screen = null
    still?.clear()
    still = null
    partShown.value = partHeld.value = frameShown.value = null
    connection.forget('station')
    settings.value = load.value = models.value = null
    latest.value = null
    counts.value = emptyCounts()
    results.value = credit.value = inFlight.value = 0
    lastError.value = null
    sourceError.value = null
    opening.value = false
    paused.value = false
  }

  async function chooseSource(choice: SourceChoice): Promise<void> {
    if (line.value && station.value && !saveSourceChoice(line.value, station.value, choice)) {
      fail({ code: 'storage_unavailable', message: 'the camera choice cannot be remembered on this device' })
    }
    await useSource(choice)
  }

  function setPaused(value: boolean): void {
    paused.value = value
    if (value) stopGrabbing()
    else if (!grabber) startGrabbing()
  }

  function retryNow(): void {
    link?.retryNow()
  }

  return {
    line, station, source, sourceError, opening, stream, cameras, grabMethod, paused,
    settings, load, models, credit, inFlight, counts, latest, results, lastError, captureFps,
    inspection, partShown, partHeld, frameShown, alarms,
    start, stop, chooseSource, setPaused, retryNow, triggerPart, acknowledge,
  }
})
