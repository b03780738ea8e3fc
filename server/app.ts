/**
 * The composition root: builds one linesight process from its configuration. `LINESIGHT_ROLE`
 * decides which halves run: `all` (the embedded default: gateway + inference in one process),
 * `gateway` (accepts frames, serves clients) or `worker` (inference only).
 */
import { resolve } from 'node:path'
import type { InspectionResult } from '../shared/domain/result.ts'
import { FALLBACK_PREFILTER, LineSettingsService } from './settings/lines.ts'
import { readiness } from './api/health.ts'
import { allRoutes } from './api/routes.ts'
import { Authenticator } from './auth/authenticate.ts'
import type { Config } from './config/index.ts'
import type { Core } from './core.ts'
import { startGateway, type Gateway } from './gateway/server.ts'
import { ensureTls } from './gateway/tls.ts'
import { uwsImplementation, uwsNative } from './gateway/uws.ts'
import { FrameIngest } from './ingest/ingest.ts'
import type { Logger } from './log.ts'
import { startGpuMetrics } from './metrics/gpu.ts'
import { createMetrics } from './metrics/metrics.ts'
import { startWorkerEndpoint, type WorkerEndpoint } from './metrics/worker-endpoint.ts'
import { ModelCatalog } from './models/catalog.ts'
import type { DeadLetter } from './queue/types.ts'
import { ResultHub } from './results/hub.ts'
import { LoadTracker } from './results/load.ts'
import { PartTracker } from './parts/tracker.ts'
import { stationInspection } from '../shared/domain/inspection.ts'
import { Processor } from './results/processor.ts'
import { Recorder } from './results/recorder.ts'
import { openEngine } from './wiring/engine.ts'
import { openQueue } from './wiring/queue.ts'
import { openStorage } from './wiring/storage.ts'
import { createUploads } from './uploads/index.ts'
import { startScaling } from './scaling/index.ts'

export interface Linesight {
  core: Core
  gateway?: Gateway
  /** A worker's /health, /ready and /metrics (LINESIGHT_ROLE=worker), on PORT. */
  workerEndpoint?: WorkerEndpoint
  /**
   * Graceful: /ready turns 503 and a gateway keeps serving for SHUTDOWN_DRAIN_MS, consuming
   * stops, in-flight frames finish and are acknowledged, then everything closes.
   */
  close(): Promise<void>
}

const LOAD_INTERVAL_MS = 500

export async function startLinesight(config: Config, log: Logger, opts: { root: string }): Promise<Linesight> {
  const metrics = createMetrics()
  // GPU utilisation and memory, only where nvidia-smi exists: never faked on a CPU host
  const gpu = config.role !== 'gateway' ? await startGpuMetrics({ registry: metrics.registry, intervalMs: config.gpuMetricsIntervalMs, log }) : undefined
  if (gpu) log.info({ binary: gpu.binary }, 'GPU metrics from nvidia-smi')
  const models = new ModelCatalog(resolve(opts.root, config.modelsDir))
  await models.refresh()
  for (const e of models.errors) log.error({ path: e.path }, `model refused: ${e.message}`)

  const storage = await openStorage(config, log)
  const { queue, bus } = await openQueue(config, log)
  const prefilter = models.get(config.prefilterModel)?.manifest
  const prefilterDefaults = { ...FALLBACK_PREFILTER, ...(prefilter?.task === 'prefilter' ? pickPrefilter(prefilter.thresholds) : {}) }
  const settings = new LineSettingsService(
    {
      model: config.defaultModel,
      policy: 'auto',
      prefilter: { ...prefilterDefaults, enabled: true },
      auditFraction: 0.02,
      shadowFraction: 0.05,
      scoreThresholds: {},
      captureFps: 5,
    },
    storage.settingsPersistence,
  )
  await settings.init()

  const hub = new ResultHub({
    kioskMaxBufferedBytes: config.kioskMaxBufferedBytes,
    onKioskSkipped: () => metrics.kioskSkipped.inc(),
    ...(bus.setInterest ? { setInterest: (lines: readonly string[]) => bus.setInterest!(lines) } : {}),
  })
  const load = new LoadTracker()
  const ingest = new FrameIngest({ queue, hub, metrics, liveFrameTtlMs: config.liveFrameTtlMs })
  const recorder = new Recorder({ store: storage.store, bus, metrics })
  // parts are tracked where stations and HTTP clients are served; sendTrigger reaches the gateway's stations once it runs
  let sendTrigger: (line: string, station: string, m: { partId: string; frames: number }) => boolean = () => false
  const parts =
    config.role === 'worker'
      ? undefined
      : new PartTracker({
          store: storage.store.parts,
          inspection: (line, station) => stationInspection(settings.get(line).inspection, station),
          defectClasses: (model) => {
            const m = models.get(model)?.manifest
            return m?.task === 'detect' ? m.defectClasses : undefined
          },
          sendTrigger: (line, station, m) => sendTrigger(line, station, m),
          idleMs: config.partIdleMs,
          log,
        })
  const unsubscribe = bus.subscribe((r) => {
    settings.touch(r.line)
    hub.dispatch(r)
    parts?.onResult(r)
    const e2e = r.source === 'browser' ? undefined : r.timings
    if (e2e) load.recordLatency(['queue', 'decode', 'infer', 'postprocess'].reduce((s, k) => s + (e2e[k] ?? 0), 0))
  })

  // A dead-lettered frame still ends with one record: an error result, failing the part (nobody
  // inspected it). Recorded by whichever process the broker hands the dead letter to; the result
  // bus carries it to the station or HTTP request waiting for that frame, wherever they are.
  queue.onDeadLetter((d) => {
    metrics.deadLetters.inc({ reason: d.reason })
    metrics.framesDropped.inc({ reason: d.reason === 'expired' ? 'expired' : 'dead_letter' })
    recorder.record(deadLetterResult(d)).catch((err: unknown) => {
      log.error({ err, frameId: d.message.id }, 'recording a dead letter failed')
      hub.fail(d.message.id, { code: deadLetterCode(d), message: `frame dead-lettered (${d.reason})${d.error ? `: ${d.error}` : ''}` })
    })
  })

  const core: Core = {
    config,
    log,
    metrics,
    queue,
    store: storage.store,
    settings,
    hub,
    ingest,
    recorder,
    load,
    models,
    accepting: true,
    ...(parts ? { parts } : {}),
    uws: { native: uwsNative, implementation: uwsImplementation },
  }
  // before the processor starts: job frames are counted from the first one recorded
  core.uploads = await createUploads(core)

  if (config.role !== 'gateway') {
    const engine = await openEngine(config, log, metrics, resolve(opts.root, config.modelsDir))
    core.engine = engine
    const processor = new Processor({ queue, engine, recorder, settings, metrics, load, log })
    core.processor = processor
    const status = engine.status()
    // enough deliveries in hand to keep every worker's batch full while the next one is decoded
    await processor.start(Math.max(2, status.workers * config.batchMaxSize * 2))
    metrics.workers.set(status.workers)
  }

  let gateway: Gateway | undefined
  let recoveryTimer: NodeJS.Timeout | undefined
  if (config.role !== 'worker') {
    const auth = new Authenticator(storage.tokens, config.authRequired)
    const tls = config.httpsEnabled
      ? await ensureTls({ certFile: config.tlsCertFile, keyFile: config.tlsKeyFile, dataDir: resolve(opts.root, config.dataDir), hostnames: config.tlsHostnames })
      : undefined
    if (tls?.generated) log.info({ fingerprint: tls.fingerprint, names: tls.names, certFile: tls.certFile }, 'generated a self-signed certificate; trust it once on each tablet (README)')
    core.tls = tls
    const clientDir = config.serveClient ? resolve(opts.root, 'dist/client') : undefined
    // only the broker's results bus can miss a result (server/ingest/station-session.ts)
    const recovery =
      queue.kind === 'rabbitmq' && config.resultRecoveryMs > 0
        ? { afterMs: config.resultRecoveryMs, giveUpMs: config.liveFrameTtlMs + 3 * config.resultRecoveryMs, lookup: (frameId: string) => storage.store.get(frameId) }
        : undefined
    const stationDeps = {
      ingest,
      hub,
      recorder,
      settings,
      metrics,
      credit: config.stationCredit,
      maxFrameBytes: config.maxFrameBytes,
      maxPixels: config.maxPixels,
      models: (line: string) => {
        const detector = models.get(settings.get(line).model) ?? models.get(config.defaultModel)
        if (!detector) throw new Error(`no detector model loaded (${config.defaultModel})`)
        const pre = models.get(config.prefilterModel)
        return pre ? { detector: detector.ref, prefilter: pre.ref } : { detector: detector.ref }
      },
      load: (line: string) => load.report(settings.get(line).policy),
      authenticate: (token: string | undefined) => auth.principalFor(token),
      log,
      ...(parts ? { parts } : {}),
      ...(recovery ? { recovery } : {}),
    }
    gateway = await startGateway({
      host: config.host,
      port: config.port,
      ...(tls ? { https: { port: config.httpsPort, certFile: tls.certFile, keyFile: tls.keyFile } } : {}),
      routes: allRoutes(core, clientDir),
      http: {
        authenticate: (h, q, access) => auth.authorize(h, q, access),
        commonHeaders: (h) => corsHeaders(config.corsOrigins, h.origin),
        onError: (err, ctx) => log.error({ err, ...ctx }, 'request failed'),
        onReply: (route, status) => metrics.httpRequests.inc({ route, status: `${Math.floor(status / 100)}xx` }),
      },
      ws: {
        station: stationDeps,
        kiosk: { hub, authenticate: (token) => auth.principalFor(token) },
        maxMessageBytes: config.maxFrameBytes + 64 * 1024,
        kioskMaxBufferedBytes: config.kioskMaxBufferedBytes,
        authenticateUpgrade: async (h, q, role) => auth.authorize(h, q, role === 'station' ? 'station' : 'read'),
        onConnections: (role, delta) => metrics.wsConnections.inc({ role }, delta),
        onError: (err, where) => log.error({ err, where }, 'socket handler failed'),
      },
    })
    settings.onChange((s) => {
      for (const st of gateway!.routes.stations) st.sendSettings(s.line)
    })
    const stations = gateway.routes.stations
    sendTrigger = (line, station, m) => {
      let sent = false
      for (const st of stations) if (st.sendTrigger(line, station, m)) sent = true
      return sent
    }
    if (recovery) {
      const stations = gateway.routes.stations
      recoveryTimer = setInterval(() => {
        for (const st of stations) {
          st.recoverOverdue().then(
            (count) => count > 0 && log.info({ count, line: st.line }, 'results recovered from the store'),
            (err: unknown) => log.warn({ err: String(err), line: st.line }, 'looking up overdue results failed; trying again'),
          )
        }
      }, Math.min(1000, recovery.afterMs))
      recoveryTimer.unref()
    }
  }

  // Probes and scrapes must reach a worker too, on the port a gateway would use.
  const workerEndpoint =
    config.role === 'worker'
      ? await startWorkerEndpoint({
          host: config.host,
          port: config.port,
          registry: metrics.registry,
          ready: () => readiness(core),
          onError: (err, ctx) => log.error({ err, ...ctx }, 'worker endpoint request failed'),
        })
      : undefined

  // Load: poll the queue, publish to stations, export to Prometheus.
  const timer = setInterval(() => {
    queue
      .depth()
      .then((d) => {
        load.queueDepth = d.live
        load.inFlight = hub.waiting
        load.workers = core.engine?.status().workers ?? load.workers
        metrics.queueDepth.set({ queue: 'live' }, d.live)
        metrics.queueDepth.set({ queue: 'batch' }, d.batch)
        metrics.queueDepth.set({ queue: 'unacked' }, d.unacked)
        metrics.queueDepth.set({ queue: 'dead' }, d.deadLetters)
        for (const st of gateway?.routes.stations ?? []) st.sendLoad()
      })
      .catch((err: unknown) => log.warn({ err: String(err) }, 'queue depth unavailable'))
  }, LOAD_INTERVAL_MS)
  timer.unref()
  const scaling = startScaling(core)

  return {
    core,
    gateway,
    ...(workerEndpoint ? { workerEndpoint } : {}),
    async close() {
      core.accepting = false
      clearInterval(timer)
      gpu?.stop()
      clearInterval(recoveryTimer)
      // /ready answers 503 from here on; sockets stay open until balancers polling it have seen that
      if (gateway && config.shutdownDrainMs > 0) await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainMs))
      await scaling.close()
      await core.processor?.close()
      gateway?.close()
      await core.uploads?.close()
      unsubscribe()
      await parts?.stop()
      await core.engine?.close()
      await queue.close()
      await bus.close()
      await storage.close()
      await workerEndpoint?.close()
    },
  }
}

function pickPrefilter(t: Record<string, number>): Partial<typeof FALLBACK_PREFILTER> {
  const out: Partial<typeof FALLBACK_PREFILTER> = {}
  for (const k of Object.keys(FALLBACK_PREFILTER) as (keyof typeof FALLBACK_PREFILTER)[]) if (typeof t[k] === 'number') out[k] = t[k]
  return out
}

function deadLetterResult(d: DeadLetter): InspectionResult {
  const h = d.message.headers
  const str = (k: string, fallback: string) => (typeof h[k] === 'string' ? (h[k] as string) : fallback)
  return {
    frameId: d.message.id,
    line: str('line', 'unknown'),
    station: str('station', 'unknown'),
    capturedAt: typeof h.capturedAt === 'number' ? h.capturedAt : d.deadAt,
    model: { name: str('model', 'none'), version: 'none' },
    inferredAt: 'server',
    ep: 'none',
    detections: [],
    // a part nobody could inspect must not pass
    verdict: 'fail',
    timings: {},
    source: (str('source', 'ws') as InspectionResult['source'])!,
    error: { code: deadLetterCode(d), message: d.error ?? String(d.reason) },
    ...(typeof h.jobId === 'string' ? { jobId: h.jobId } : {}),
    ...(typeof h.partId === 'string' ? { partId: h.partId } : {}),
  }
}

/** The processor nacks with `<InferenceErrorCode>: <message>`; keep that code for the sender. */
function deadLetterCode(d: DeadLetter): string {
  if (d.reason === 'expired') return 'expired'
  const code = d.error?.match(/^([a-z_]+):/)?.[1]
  return code && code !== 'internal' ? code : 'dead_letter'
}

function corsHeaders(allowed: readonly string[], origin: string | undefined): Record<string, string> {
  const base: Record<string, string> = { 'x-content-type-options': 'nosniff' }
  if (!origin || !(allowed.includes('*') || allowed.includes(origin))) return base
  return {
    ...base,
    'access-control-allow-origin': allowed.includes('*') ? '*' : origin,
    'access-control-allow-headers': 'authorization, content-type, tus-resumable, upload-length, upload-offset, upload-metadata, upload-checksum',
    'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS',
    vary: 'origin',
  }
}
