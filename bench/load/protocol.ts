/**
 * Commands the benchmark sends to its load-generator process, and what comes back. The
 * generator is a separate process so that its CPU is not the measured process's CPU, and so one
 * client drives every server the same way (the real gateway, the `ws` and uWS transport servers).
 */
import type { Latency } from '../stats.ts'
import type { Window } from '../window.ts'

export interface StationsCommand extends Window {
  type: 'stations'
  /** ws://host:port/ws/station */
  url: string
  /** Bearer token for the socket (filled in by LoadGenerator.run for servers this process started). */
  token?: string
  stations: number
  line: string
  /** Image payloads, sent in turn. */
  images: Uint8Array[]
  mime: 'image/jpeg'
  width: number
  height: number
  /** The camera frame size the images were resized from (model-size uplink, envelope version 2). */
  from?: { width: number; height: number }
  /** What ends a frame's trip: its `result` (the gateway) or its `ack` (the transport servers). */
  completeOn: 'result' | 'ack'
  /**
   * Offered load, frames/s over all stations (open loop: a frame whose station has no credit
   * left is not sent, and counted as blocked). Absent: closed loop, every station keeps its whole
   * credit in flight (the most the server can take).
   */
  rate?: number
}

export interface HttpCommand extends Window {
  type: 'http'
  /** http://host:port/api/v1/detect?line=..&station=.. */
  url: string
  /** Bearer token (filled in by LoadGenerator.run for servers this process started). */
  token?: string
  concurrency: number
  images: Uint8Array[]
}

export type LoadCommand = StationsCommand | HttpCommand

export interface LoadResult {
  /** Frames completed inside the window, per second. */
  fps: number
  completed: number
  /** Send (or request) to result (or ack, or response), ms. */
  latency: Latency
  /** p50 of each stage timing the results carried (queue, decode, infer, postprocess, record, push), ms. */
  stagesP50: Record<string, number>
  /** Outcomes other than a result inside the window, by kind (busy, rejected, error codes, HTTP statuses). */
  refused: Record<string, number>
  /** Open loop only: frames not sent because their station had no credit left. */
  blocked: number
  /** Offered frames/s (open loop), or undefined. */
  offered?: number
  /** Credit per station the server granted. */
  credit?: number
  /** The generator's own CPU over the window, ms per completed frame. */
  clientCpuMsPerFrame: number
}

export type GeneratorReply =
  | { type: 'ready' }
  /** Sent as a run starts, so the parent can sample the server's CPU over the same window. */
  | { type: 'window'; startAt: number; endAt: number }
  | { type: 'result'; result: LoadResult }
  | { type: 'failed'; message: string }
