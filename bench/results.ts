/**
 * From rounds of measurements to results.json: medians over rounds, ratios taken round by round
 * (each ratio's two sides ran minutes apart at most, then the median of the ratios), the
 * hardware bounds, CPU-based projections, and each target's verdict.
 */
import type { FirstLoad } from './first-load.ts'
import type { StationLatency } from './station-latency.ts'
import type { FrameSet, SizeName } from './frames.ts'
import type { HalfLoad, ProfiledRun } from './latency-and-profile.ts'
import type { Rate } from './layout/threads.ts'
import type { LoadAverage, MachineInfo, ModelInfo } from './machine.ts'
import type { Round } from './rounds.ts'
import type { EngineRun } from './stages/engine.ts'
import { median, medianDeep, round } from './stats.ts'

export interface Target {
  id: string
  what: string
  /** `>=` or `<=` the limit. */
  op: '>=' | '<='
  limit: number
  measured: number
  unit: string
  met: boolean
  /** measured / limit: how far from the target, as a factor. */
  factor: number
}

export interface SizeResult {
  size: SizeName
  width: number
  height: number
  jpegKB: number
  decode: Rate
  pipeline: Rate
  engine: EngineRun
  /** Model + decode measured apart, in the same layout: 1 / (1/raw + 1/decode). */
  boundFps: number
  engineToRaw: number
  engineToBound: number
  engineToPipeline: number
  /** The same three ratios from CPU ms per frame (the reciprocal of the cost ratio): what a shared machine blurs least. */
  cpu: { engineToRaw: number; engineToBound: number; engineToPipeline: number; boundToRaw: number }
}

export interface Results {
  rawFps: number
  engineFps: number
  e2eFps: number
  engineRatio: number
  e2eRatio: number
  wsIngestFps: { uws: number; ws: number }
  httpDetectP50Ms: number
  addedLatencyP50Ms: number
  /** Model + decode of the frames stations now send (model-size), times added: 1 / (1/raw + 1/decode). */
  boundFps: number
  /** End to end with model-size frames over that bound, by CPU per frame (server process). */
  e2eOverBound: number
  /** End to end with model-size frames on 2 dedicated cores, from the server's CPU per frame. */
  e2eDedicatedFps: number
  /** Mean JPEG bytes a station sends per frame: full 640x480 frames, and model-size frames. */
  uplinkBytesPerFrame: { before: number; after: number }
  /** POST /api/v1/detect with full 640x480 frames over their bound (model + full-frame decode), by CPU per frame. */
  httpFullFrameOverBound: number
  /** The model this run measured (`--models DIR --model NAME`): raw limit, engine on 640x480 JPEGs, engine / raw. */
  realModel: {
    name: string
    params: number
    input: string
    rawFps: number
    engineFps: number
    engineRatio: number
    /** The engine on model-size frames; engineRatioByCpu = raw CPU per frame / engine CPU per frame. */
    modelSize: { engineFps: number; engineRatio: number; engineRatioByCpu: number }
  }
  /** A station's first load in Chromium over an emulated link (bench/first-load.ts); null when not run, with why in details. */
  firstLoad: FirstLoadSummary | null
  /** Capture -> verdict at a Chromium station, model-size uplink and full frames (bench/station-latency.ts); null when not run. */
  stationLatency: StationLatencySummary | null
  details: Record<string, unknown>
}

/** The station figures without the runs they came from (those stay in details.stationLatency). */
export type StationLatencySummary = Omit<StationLatency, 'runs'>

/** The first-load figures without the runs they came from (those stay in details.firstLoad). */
export type FirstLoadSummary = Omit<FirstLoad, 'runs'>

export interface Inputs {
  mode: 'quick' | 'full'
  /** The command line that produced the run. */
  command: string
  startedAt: string
  durationS: number
  rounds: Round[]
  halfLoads: HalfLoad[]
  /** The same with model-size frames, what stations send now. */
  halfLoadsModelSize: HalfLoad[]
  profiles?: { e2e: ProfiledRun; ceiling: ProfiledRun }
  machine: MachineInfo
  model: ModelInfo
  load: { start: LoadAverage; end: LoadAverage }
  layout: { workers: number; threadsPerWorker: number; batchMaxSize: number; fullFrameDecoder?: string; prefetch: number; stations: number; ceilingStations: number; httpConcurrency: number; seconds: number; warmupMs: number }
  frames: FrameSet[]
  modelSize: { width: number; height: number; meanBytes: number; fullMeanBytes: number }
  /** The first-load measurement, or why it did not run. */
  firstLoad: FirstLoad | { skipped: string }
  /** The station latency measurement, or why it did not run. */
  stationLatency: StationLatency | { skipped: string }
}

/** A YOLOv8n-class detector has about 3 M parameters; the default detector 0.3 M. */
const REAL_SIZE_PARAMS = 1_000_000

const perRound = (rounds: Round[], f: (r: Round) => number) => median(rounds.map(f))
const dedicated = (cores: number, cpuMsPerFrame: number) => (cores * 1000) / cpuMsPerFrame

export function buildResults(i: Inputs): Results {
  const { rounds } = i
  const cores = i.machine.cores
  const batches = Object.keys(rounds[0]!.raw).map(Number)
  const raw = Object.fromEntries(batches.map((b) => [b, medianDeep(rounds.map((r) => r.raw[b]!))]))
  const bestBatch = batches.reduce((a, b) => (raw[b]!.fps > raw[a]!.fps ? b : a))
  // the raw limit of each round: its best batch (the limit is the best the model can do)
  const rawLimit = (r: Round) => Math.max(...batches.map((b) => r.raw[b]!.fps))
  const rawFps = perRound(rounds, rawLimit)
  // CPU ms per frame of the best batch of each round
  const rawCpu = (r: Round) => r.raw[batches.reduce((a, b) => (r.raw[b]!.fps > r.raw[a]!.fps ? b : a))]!.cpuMsPerFrame

  const sizes: SizeResult[] = i.frames.map((f) => {
    const decode = medianDeep(rounds.map((r) => r.decode[f.size]!))
    return {
      size: f.size,
      width: f.width,
      height: f.height,
      jpegKB: round(f.meanKB, 0),
      decode,
      pipeline: medianDeep(rounds.map((r) => r.pipeline[f.size]!)),
      engine: medianDeep(rounds.map((r) => r.engine[f.size]!)),
      boundFps: perRound(rounds, (r) => 1 / (1 / rawLimit(r) + 1 / r.decode[f.size]!.fps)),
      engineToRaw: perRound(rounds, (r) => r.engine[f.size]!.fps / rawLimit(r)),
      engineToBound: perRound(rounds, (r) => r.engine[f.size]!.fps * (1 / rawLimit(r) + 1 / r.decode[f.size]!.fps)),
      engineToPipeline: perRound(rounds, (r) => r.engine[f.size]!.fps / r.pipeline[f.size]!.fps),
      cpu: {
        engineToRaw: perRound(rounds, (r) => rawCpu(r) / r.engine[f.size]!.cpuMsPerFrame),
        engineToBound: perRound(rounds, (r) => (rawCpu(r) + r.decode[f.size]!.cpuMsPerFrame) / r.engine[f.size]!.cpuMsPerFrame),
        engineToPipeline: perRound(rounds, (r) => r.pipeline[f.size]!.cpuMsPerFrame / r.engine[f.size]!.cpuMsPerFrame),
        boundToRaw: perRound(rounds, (r) => rawCpu(r) / (rawCpu(r) + r.decode[f.size]!.cpuMsPerFrame)),
      },
    }
  })
  const vga = sizes[0]!
  const e2e = {
    ws: medianDeep(rounds.map((r) => r.e2e.ws)),
    http: medianDeep(rounds.map((r) => r.e2e.http)),
    httpSingle: medianDeep(rounds.map((r) => r.e2e.httpSingle)),
  }
  const e2eRatio = perRound(rounds, (r) => r.e2e.ws.fps / rawLimit(r))
  const half = medianDeep(i.halfLoads)
  const transport = { uws: medianDeep(rounds.map((r) => r.transport.uws)), ws: medianDeep(rounds.map((r) => r.transport.ws)) }
  const transportRatio = perRound(rounds, (r) => r.transport.uws.fps / r.transport.ws.fps)
  const ceiling = medianDeep(rounds.map((r) => r.ceiling))

  const engineFps = vga.engine.fps
  const wsModelSize = medianDeep(rounds.map((r) => r.e2e.wsModelSize))
  const decodeModelSize = medianDeep(rounds.map((r) => r.decodeModelSize))
  const modelSizeRun = {
    frame: `${i.modelSize.width}x${i.modelSize.height} from 640x480`,
    boundFps: perRound(rounds, (r) => 1 / (1 / rawLimit(r) + 1 / r.decodeModelSize.fps)),
    e2eOverBound: perRound(rounds, (r) => (rawCpu(r) + r.decodeModelSize.cpuMsPerFrame) / r.e2e.wsModelSize.server.cpuMsPerFrame),
    e2eOverBoundByFps: perRound(rounds, (r) => r.e2e.wsModelSize.fps * (1 / rawLimit(r) + 1 / r.decodeModelSize.fps)),
    e2eDedicatedFps: dedicated(cores, wsModelSize.server.cpuMsPerFrame),
    decode: decodeModelSize,
    engine: medianDeep(rounds.map((r) => r.engineModelSize)),
    engineToRaw: perRound(rounds, (r) => r.engineModelSize.fps / rawLimit(r)),
    engineToRawByCpu: perRound(rounds, (r) => rawCpu(r) / r.engineModelSize.cpuMsPerFrame),
    ws: wsModelSize,
    /** p50 at half load minus the p50s of the model and of the decode (issue 16's latency target). */
    addedLatencyP50Ms: median(i.halfLoadsModelSize.map((h) => h.addedBeyondDecodeP50Ms)),
    halfLoad: medianDeep(i.halfLoadsModelSize),
    halfLoadRuns: i.halfLoadsModelSize.map((h) => ({ offered: h.offered, fps: h.fps, p50: h.latency.p50, stagesP50: h.stagesP50, added: h.addedBeyondDecodeP50Ms })),
  }
  const targets: Target[] = [
    target('engine-vs-raw', 'engine frames/s over the raw session.run limit (640x480 JPEG)', '>=', 0.9, vga.engineToRaw, 'x'),
    target('e2e-vs-raw', 'end to end (/ws/station) frames/s over the raw limit', '>=', 0.85, e2eRatio, 'x'),
    target('e2e-fps', 'end-to-end frames/s on this machine', '>=', 200, e2e.ws.fps, 'frames/s'),
    target('added-latency', 'p50 latency added beyond the model at half load', '<=', 3, median(i.halfLoads.map((h) => h.addedLatencyP50Ms)), 'ms'),
    target('uws-vs-ws', 'uWebSockets.js over ws, 100 KB frames/s', '>=', 2, transportRatio, 'x'),
    target('e2e-model-size-dedicated', 'end to end, model-size frames, on 2 dedicated cores (server CPU per frame)', '>=', 300, modelSizeRun.e2eDedicatedFps, 'frames/s'),
    target('e2e-model-size-fps', 'end to end, model-size frames, measured', '>=', 250, wsModelSize.fps, 'frames/s'),
    target('e2e-model-size-vs-bound', 'end to end, model-size frames, over model + decode (CPU per frame)', '>=', 0.85, modelSizeRun.e2eOverBound, 'x'),
    target('added-latency-model-size', 'p50 latency added beyond model and decode at half load, model-size frames', '<=', 2, modelSizeRun.addedLatencyP50Ms, 'ms'),
    // issue 16 sets engine / raw for a real-size model, where the model dominates; for a small one the 320x240 decode alone is a third of the model
    ...(i.model.parameters >= REAL_SIZE_PARAMS ? [target('engine-vs-raw-model-size', 'real-size model: engine over the raw limit with model-size frames (CPU per frame)', '>=', 0.9, modelSizeRun.engineToRawByCpu, 'x')] : []),
    target('uplink-bytes', 'uplink bytes per frame, full over model-size (the benchmark\'s frames: sample files against libvips at the station\'s quality)', '>=', 4, i.modelSize.fullMeanBytes / i.modelSize.meanBytes, 'x'),
    // the same target as a station in Chromium meets it: its own encoder, full frames at JPEG_QUALITY against model-size ones
    ...('runs' in i.stationLatency
      ? [target('uplink-bytes-station', 'uplink bytes per frame at a Chromium station, full frames over model-size (frame envelopes, no evidence)', '>=', 4, i.stationLatency.full.frameBytes / i.stationLatency.modelSize.frameBytes, 'x')]
      : []),
    target('gateway-ceiling', 'gateway with a no-op model, 100 KB frames/s', '>=', 3000, ceiling.fps, 'frames/s'),
  ]

  const cpuRatios = {
    note: 'ratios of CPU ms per frame (cost of the limit / cost of the stage), median of per-round ratios; the server process only for end to end',
    engineToRaw: vga.cpu.engineToRaw,
    engineToBound: vga.cpu.engineToBound,
    engineToPipeline: vga.cpu.engineToPipeline,
    boundToRaw: vga.cpu.boundToRaw,
    e2eToRaw: perRound(rounds, (r) => rawCpu(r) / r.e2e.ws.server.cpuMsPerFrame),
    e2eToBound: perRound(rounds, (r) => (rawCpu(r) + r.decode.vga!.cpuMsPerFrame) / r.e2e.ws.server.cpuMsPerFrame),
    e2eToEngine: perRound(rounds, (r) => r.engine.vga!.cpuMsPerFrame / r.e2e.ws.server.cpuMsPerFrame),
    wsOverUwsServerCpu: perRound(rounds, (r) => r.transport.ws.server.cpuMsPerFrame / r.transport.uws.server.cpuMsPerFrame),
  }
  const cpu = {
    note: 'CPU ms per frame of the measured process(es), and what a dedicated machine with these cores would reach: cores x 1000 / (CPU ms per frame). End to end and ceiling count the server process only (the stations are other machines in production).',
    rawB1: { cpuMsPerFrame: raw[1]!.cpuMsPerFrame, dedicatedFps: dedicated(cores, raw[1]!.cpuMsPerFrame) },
    rawBest: { batch: bestBatch, cpuMsPerFrame: raw[bestBatch]!.cpuMsPerFrame, dedicatedFps: dedicated(cores, raw[bestBatch]!.cpuMsPerFrame) },
    decodeVga: { cpuMsPerFrame: vga.decode.cpuMsPerFrame, dedicatedFps: dedicated(cores, vga.decode.cpuMsPerFrame) },
    pipelineVga: { cpuMsPerFrame: vga.pipeline.cpuMsPerFrame, dedicatedFps: dedicated(cores, vga.pipeline.cpuMsPerFrame) },
    engineVga: { cpuMsPerFrame: vga.engine.cpuMsPerFrame, dedicatedFps: dedicated(cores, vga.engine.cpuMsPerFrame) },
    e2eWs: { cpuMsPerFrame: e2e.ws.server.cpuMsPerFrame, dedicatedFps: dedicated(cores, e2e.ws.server.cpuMsPerFrame), threadsMsPerFrame: e2e.ws.server.threadsMsPerFrame },
    ceiling: { cpuMsPerFrame: ceiling.server.cpuMsPerFrame, dedicatedFps: dedicated(cores, ceiling.server.cpuMsPerFrame), threadsMsPerFrame: ceiling.server.threadsMsPerFrame },
    transport: { uwsCpuMsPerFrame: transport.uws.server.cpuMsPerFrame, wsCpuMsPerFrame: transport.ws.server.cpuMsPerFrame, wsOverUws: transport.ws.server.cpuMsPerFrame / transport.uws.server.cpuMsPerFrame },
  }

  return {
    rawFps,
    engineFps,
    e2eFps: e2e.ws.fps,
    engineRatio: vga.engineToRaw,
    e2eRatio,
    wsIngestFps: { uws: transport.uws.fps, ws: transport.ws.fps },
    httpDetectP50Ms: e2e.httpSingle.latency.p50,
    addedLatencyP50Ms: median(i.halfLoads.map((h) => h.addedLatencyP50Ms)),
    boundFps: modelSizeRun.boundFps,
    e2eOverBound: modelSizeRun.e2eOverBound,
    e2eDedicatedFps: modelSizeRun.e2eDedicatedFps,
    uplinkBytesPerFrame: { before: Math.round(i.modelSize.fullMeanBytes), after: Math.round(i.modelSize.meanBytes) },
    httpFullFrameOverBound: perRound(rounds, (r) => (rawCpu(r) + r.decode.vga!.cpuMsPerFrame) / r.e2e.http.server.cpuMsPerFrame),
    realModel: {
      name: i.model.name,
      params: i.model.parameters,
      input: i.model.input,
      rawFps,
      engineFps,
      engineRatio: vga.engineToRaw,
      // the frames stations send now: the engine's cost beyond the model is the 320x240 decode, not the 640x480 one
      modelSize: { engineFps: modelSizeRun.engine.fps, engineRatio: modelSizeRun.engineToRaw, engineRatioByCpu: modelSizeRun.engineToRawByCpu },
    },
    firstLoad: summaryOf(i.firstLoad),
    stationLatency: summaryOf(i.stationLatency),
    details: {
      firstLoad: i.firstLoad,
      stationLatency: i.stationLatency,
      modelSize: modelSizeRun,
      mode: i.mode,
      command: i.command,
      startedAt: i.startedAt,
      durationS: i.durationS,
      rounds: rounds.length,
      machine: i.machine,
      loadAverage: i.load,
      model: i.model,
      layout: i.layout,
      targets,
      raw: { byBatch: raw, bestBatch, b1Fps: raw[1]!.fps, definition: 'rawFps is the best batch of each round (the limit), median over rounds' },
      sizes,
      bounds: {
        definition: 'boundFps = 1 / (1/raw + 1/decode): the model and the decode measured apart in the same layout, their times added; pipeline = decode + model + NMS back to back in each worker, without the engine',
        vga: { boundFps: vga.boundFps, pipelineFps: vga.pipeline.fps, engineToBound: vga.engineToBound, engineToPipeline: vga.engineToPipeline, e2eToBound: perRound(rounds, (r) => r.e2e.ws.fps * (1 / rawLimit(r) + 1 / r.decode.vga!.fps)), e2eToEngine: perRound(rounds, (r) => r.e2e.ws.fps / r.engine.vga!.fps) },
      },
      e2e: { ...e2e, halfLoad: half, halfLoadRuns: i.halfLoads.map((h) => ({ offered: h.offered, fps: h.fps, p50: h.latency.p50, inferP50: h.stagesP50.infer, added: h.addedLatencyP50Ms })) },
      transport: { ...transport, ratio: transportRatio, orders: rounds.map((r) => r.transport.order) },
      ceiling,
      cpu,
      cpuRatios,
      profiles: i.profiles ? { e2e: { ...i.profiles.e2e.summary, file: i.profiles.e2e.file, fps: i.profiles.e2e.run.fps }, ceiling: { ...i.profiles.ceiling.summary, file: i.profiles.ceiling.file, fps: i.profiles.ceiling.run.fps } } : null,
      perRound: rounds.map((r) => ({
        raw: Object.fromEntries(batches.map((b) => [b, r.raw[b]!.fps])),
        engine: Object.fromEntries(Object.entries(r.engine).map(([k, v]) => [k, v!.fps])),
        decode: Object.fromEntries(Object.entries(r.decode).map(([k, v]) => [k, v!.fps])),
        pipeline: Object.fromEntries(Object.entries(r.pipeline).map(([k, v]) => [k, v!.fps])),
        e2eWs: r.e2e.ws.fps,
        e2eWsModelSize: r.e2e.wsModelSize.fps,
        decodeModelSize: r.decodeModelSize.fps,
        http: r.e2e.http.fps,
        uws: r.transport.uws.fps,
        ws: r.transport.ws.fps,
        ceiling: r.ceiling.fps,
      })),
    },
  }
}

/** A Chromium stage's figures without the runs they came from (those stay in details), or null when it did not run. */
function summaryOf<T extends { runs: unknown }>(stage: T | { skipped: string }): Omit<T, 'runs'> | null {
  if (!('runs' in stage)) return null
  const { runs: _runs, ...summary } = stage
  return summary
}

function target(id: string, what: string, op: '>=' | '<=', limit: number, measured: number, unit: string): Target {
  const met = op === '>=' ? measured >= limit : measured <= limit
  return { id, what, op, limit, measured, unit, met, factor: measured / limit }
}

