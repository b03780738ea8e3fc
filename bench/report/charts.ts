/** The report's charts, from results.json's numbers. */
import type { HalfLoad } from '../latency-and-profile.ts'
import type { Results, SizeResult } from '../results.ts'
import { barChartSvg } from './svg.ts'

type D = {
  raw: { byBatch: Record<string, { fps: number; cpuMsPerFrame: number }>; bestBatch: number }
  sizes: SizeResult[]
  e2e: { ws: { fps: number; server: { cpuMsPerFrame: number; threadsMsPerFrame: Record<string, number> } }; http: { fps: number }; halfLoad: HalfLoad }
  transport: { uws: { fps: number; server: { cpuMsPerFrame: number } }; ws: { fps: number; server: { cpuMsPerFrame: number } } }
  ceiling: { fps: number; server: { cpuMsPerFrame: number } }
}

const x = (v: number) => `${v.toFixed(2)}x raw`

export function charts(r: Results): Record<string, string> {
  const d = r.details as unknown as D
  const vga = d.sizes[0]!
  const raw1 = d.raw.byBatch['1']!.fps
  const out: Record<string, string> = {}
  out['throughput.svg'] = barChartSvg({
    title: 'Every stage at 640x480, frames/s (median of rounds)',
    unit: `same machine, same layout, one run; targets: engine >= 0.90 x raw, end to end >= 0.85 x raw and >= 200 frames/s`,
    bars: [
      { label: 'raw session.run, batch 1', value: raw1, note: x(raw1 / r.rawFps) },
      { label: `raw session.run, batch ${d.raw.bestBatch} (the limit)`, value: r.rawFps, note: '1.00x raw' },
      { label: 'JPEG decode + letterbox alone', value: vga.decode.fps, series: 'bound' },
      { label: 'model + decode, measured apart', value: vga.boundFps, note: x(vga.boundFps / r.rawFps), series: 'bound' },
      { label: 'bare pipeline (no engine)', value: vga.pipeline.fps, note: x(vga.pipeline.fps / r.rawFps), series: 'bound' },
      { label: 'engine', value: r.engineFps, note: x(r.engineRatio), series: 'linesight' },
      { label: 'end to end, /ws/station', value: r.e2eFps, note: x(r.e2eRatio), series: 'linesight' },
      { label: 'end to end, POST /api/v1/detect', value: d.e2e.http.fps, series: 'linesight' },
    ],
    markers: [
      { value: 0.9 * r.rawFps, label: '0.90 x raw' },
      { value: 200, label: '200 frames/s' },
    ],
    legend: { '': 'model only', bound: 'hardware bounds with JPEG decode', linesight: 'linesight' },
  })
  out['sizes.svg'] = barChartSvg({
    title: 'Engine against its bounds, by frame size, frames/s',
    unit: 'bound = model + decode measured apart; bare pipeline = decode + model + NMS per worker without the engine',
    bars: d.sizes.flatMap((s) => [
      { label: `${s.size} (${s.jpegKB} KB) bound`, value: s.boundFps, series: 'bound' },
      { label: `${s.size} bare pipeline`, value: s.pipeline.fps, series: 'pipeline' },
      { label: `${s.size} engine`, value: s.engine.fps, note: `${s.engineToBound.toFixed(2)}x bound`, series: 'engine' },
    ]),
    legend: { bound: 'bound', pipeline: 'bare pipeline', engine: 'engine' },
  })
  const half = d.e2e.halfLoad
  out['latency.svg'] = barChartSvg({
    title: `p50 latency at half load (${(half.offered ?? 0).toFixed(0)} frames/s offered), ms`,
    unit: 'end to end at the station, and the p50 of each stage the result reports',
    bars: [
      { label: 'end to end (station)', value: half.latency.p50 },
      ...Object.entries(half.stagesP50).map(([k, v]) => ({ label: `stage: ${k}`, value: v, series: k === 'infer' ? 'model' : 'stage' })),
      { label: 'added beyond the model', value: r.addedLatencyP50Ms, series: 'added' },
    ],
    markers: [{ value: 3, label: 'target for added' }],
    legend: { '': 'end to end', stage: 'stage', model: 'model', added: 'added' },
  })
  out['ingest.svg'] = barChartSvg({
    title: '100 KB frames in, frames/s',
    unit: 'transport: same handler (decode envelope, copy payload, ack) behind each library; gateway: the real server with a no-op model',
    bars: [
      { label: 'uWebSockets.js, handler only', value: r.wsIngestFps.uws, series: 'transport' },
      { label: 'ws, handler only', value: r.wsIngestFps.ws, series: 'transport' },
      { label: 'gateway + queue + SQLite, no-op model', value: d.ceiling.fps, series: 'gateway' },
    ],
    markers: [{ value: 3000, label: 'gateway target' }],
    legend: { transport: 'transport', gateway: 'linesight gateway' },
  })
  const threads = d.e2e.ws.server.threadsMsPerFrame
  out['cpu.svg'] = barChartSvg({
    title: 'CPU ms per frame at 640x480 (all threads of the measuring process)',
    unit: 'what a shared machine blurs least: cores x 1000 / this = frames/s on a dedicated machine',
    bars: [
      { label: 'raw session.run, batch 1', value: d.raw.byBatch['1']!.cpuMsPerFrame, series: 'model' },
      { label: 'JPEG decode + letterbox', value: vga.decode.cpuMsPerFrame, series: 'decode' },
      { label: 'bare pipeline', value: vga.pipeline.cpuMsPerFrame, series: 'decode' },
      { label: 'engine', value: vga.engine.cpuMsPerFrame, series: 'linesight' },
      { label: 'server, end to end', value: d.e2e.ws.server.cpuMsPerFrame, series: 'linesight' },
      ...Object.entries(threads).map(([k, v]) => ({ label: `  of which ${k}`, value: v, series: 'linesight' })),
      { label: 'server, no-op model (100 KB)', value: d.ceiling.server.cpuMsPerFrame, series: 'gateway' },
    ],
    legend: { model: 'model', decode: 'decode', linesight: 'linesight', gateway: 'gateway only' },
  })
  return out
}
