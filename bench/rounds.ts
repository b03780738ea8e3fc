/**
 * One round: every stage once, in an order that alternates the pairs being compared (raw, then
 * engine, then end to end; uWS and `ws` swapping places every round), so slow drifts of a shared
 * machine's load fall on both sides of each ratio. The runner repeats rounds and takes medians.
 */
import type { SizeName } from './frames.ts'
import type { Rate } from './layout/threads.ts'
import { measuredRun, type MeasuredRun } from './load/measured.ts'
import type { StationsCommand } from './load/protocol.ts'
import type { BenchOptions } from './options.ts'
import type { Rig } from './rig.ts'
import { runEngine, type EngineRun } from './stages/engine.ts'
import type { Window } from './window.ts'

export interface Round {
  /** session.run on ready tensors, per batch size. */
  raw: Record<number, Rate>
  /** Per frame size: decode + letterbox alone, the bare pipeline, and the engine. */
  decode: Partial<Record<SizeName, Rate>>
  pipeline: Partial<Record<SizeName, Rate>>
  engine: Partial<Record<SizeName, EngineRun>>
  /** Decode (no resize: already the letterbox's size) of the model-size frames alone. */
  decodeModelSize: Rate
  /** The engine on the model-size frames: what a server that receives them pays beyond the model. */
  engineModelSize: EngineRun
  /** ws: 640x480 frames; wsModelSize: the same frames at the model's input size (envelope version 2). */
  e2e: { ws: MeasuredRun; wsModelSize: MeasuredRun; http: MeasuredRun; httpSingle: MeasuredRun }
  transport: { uws: MeasuredRun; ws: MeasuredRun; order: string }
  ceiling: MeasuredRun
}

export function stationsCommand(rig: Rig, opts: BenchOptions, w: Window, over: Partial<StationsCommand> & Pick<StationsCommand, 'url' | 'line' | 'completeOn'>): StationsCommand {
  const vga = rig.frames[0]!
  return { type: 'stations', stations: opts.stations, images: vga.jpegs, mime: 'image/jpeg', width: vga.width, height: vga.height, ...w, ...over }
}

/** What stations send with the model-size uplink: the rig's model-size frames and the camera size they came from. */
export function modelSizeFrames(rig: Rig): Pick<StationsCommand, 'images' | 'width' | 'height' | 'from'> {
  const ms = rig.modelSize
  return { images: ms.jpegs, width: ms.width, height: ms.height, from: ms.from }
}

export function ceilingCommand(rig: Rig, opts: BenchOptions, w: Window): StationsCommand {
  return stationsCommand(rig, opts, w, { url: rig.noop.wsUrl, line: 'ceiling', completeOn: 'result', stations: opts.ceilingStations, images: rig.opaque })
}

export async function runRound(rig: Rig, opts: BenchOptions, index: number, log: (line: string) => void): Promise<Round> {
  const w: Window = { warmupMs: opts.warmupMs, seconds: opts.seconds }
  const raw: Round['raw'] = {}
  for (const batch of opts.rawBatches) {
    raw[batch] = await rig.loops.run({ mode: 'model', batch, frameSet: 0 }, w)
    log(`raw session.run batch ${batch}: ${raw[batch]!.fps.toFixed(1)} frames/s`)
  }
  const decode: Round['decode'] = {}
  const pipeline: Round['pipeline'] = {}
  const engine: Round['engine'] = {}
  for (const [i, f] of rig.frames.entries()) {
    decode[f.size] = await rig.loops.run({ mode: 'decode', batch: 1, frameSet: i }, w)
    pipeline[f.size] = await rig.loops.run({ mode: 'pipeline', batch: 1, frameSet: i }, w)
    engine[f.size] = await runEngine(rig.engine, f, rig.prefetch, w)
    log(`${f.size}: decode alone ${decode[f.size]!.fps.toFixed(1)}, bare pipeline ${pipeline[f.size]!.fps.toFixed(1)}, engine ${engine[f.size]!.fps.toFixed(1)} frames/s`)
  }
  const decodeModelSize = await rig.loops.run({ mode: 'decode', batch: 1, frameSet: rig.frames.length }, w)
  const engineModelSize = await runEngine(rig.engine, rig.modelSize, rig.prefetch, w)
  const vga = rig.frames[0]!
  const ms = rig.modelSize
  const e2eWs = await measuredRun(rig.gen, rig.real.pid, stationsCommand(rig, opts, w, { url: rig.real.wsUrl, line: 'e2e', completeOn: 'result' }))
  const wsModelSize = await measuredRun(rig.gen, rig.real.pid, stationsCommand(rig, opts, w, { url: rig.real.wsUrl, line: 'e2e-model-size', completeOn: 'result', ...modelSizeFrames(rig) }))
  log(`model-size frames (${ms.width}x${ms.height}, ${(ms.meanBytes / 1024).toFixed(1)} KB against ${(ms.fullMeanBytes / 1024).toFixed(1)}): decode alone ${decodeModelSize.fps.toFixed(1)}, engine ${engineModelSize.fps.toFixed(1)}, /ws/station ${wsModelSize.fps.toFixed(1)} frames/s`)
  const http = await measuredRun(rig.gen, rig.real.pid, { type: 'http', url: rig.real.detectUrl('e2e-http', 'h1'), concurrency: opts.httpConcurrency, images: vga.jpegs, ...w })
  const httpSingle = await measuredRun(rig.gen, rig.real.pid, { type: 'http', url: rig.real.detectUrl('e2e-http', 'h1'), concurrency: 1, images: vga.jpegs, ...w })
  log(`end to end: /ws/station ${e2eWs.fps.toFixed(1)}, POST /api/v1/detect ${http.fps.toFixed(1)} frames/s (p50 one at a time ${httpSingle.latency.p50.toFixed(1)} ms)`)

  const order = index % 2 === 0 ? (['uws', 'ws'] as const) : (['ws', 'uws'] as const)
  const transport = {} as Round['transport']
  for (const kind of order) {
    const server = kind === 'uws' ? rig.uws : rig.ws
    transport[kind] = await measuredRun(rig.gen, server.pid, stationsCommand(rig, opts, w, { url: server.url, line: 'transport', completeOn: 'ack', images: rig.opaque }))
  }
  transport.order = order.join(',')
  log(`transport, 100 KB frames: uWS ${transport.uws.fps.toFixed(0)}, ws ${transport.ws.fps.toFixed(0)} frames/s`)
  const ceiling = await measuredRun(rig.gen, rig.noop.pid, ceilingCommand(rig, opts, w))
  log(`gateway ceiling (no-op model), 100 KB frames: ${ceiling.fps.toFixed(0)} frames/s`)
  return { raw, decode, pipeline, engine, decodeModelSize, engineModelSize, e2e: { ws: e2eWs, wsModelSize, http, httpSingle }, transport, ceiling }
}
