/**
 * Stations streaming frames over WebSocket, as the PWA does: hello, welcome with credit, binary
 * envelopes (shared/protocol/envelope.ts), never more frames in flight than the credit.
 *
 * The client must not be what limits the run, so per frame it only patches the frame id and
 * capture time into an envelope encoded once per credit slot (a slot is reused only after its
 * frame's answer came back, by which time the socket has taken the bytes), and parses the small
 * JSON answers with JSON.parse.
 */
import WebSocket from 'ws'
import { encodeEnvelope, FIXED_HEADER, FIXED_HEADER_V2 } from '../../shared/protocol/envelope.ts'
import { ownCpuMs } from '../cpu.ts'
import { latencyOf } from '../stats.ts'
import { inWindow, windowFromNow } from '../window.ts'
import type { LoadResult, StationsCommand } from './protocol.ts'

const SEQ_DIGITS = 10
const CONNECT_TIMEOUT_MS = 30_000
const DRAIN_TIMEOUT_MS = 15_000

interface ServerText {
  type: string
  frameId?: string
  status?: string
  credit?: number
  error?: { code?: string }
  result?: { frameId: string; timings?: Record<string, number> }
}

class Station {
  readonly slots: Uint8Array[] = []
  readonly free: number[] = []
  readonly inFlight = new Map<string, { slot: number; sentAt: number }>()
  seq = 0

  constructor(
    readonly name: string,
    readonly socket: WebSocket,
    readonly credit: number,
    cmd: StationsCommand,
    imageOffset: number,
  ) {
    for (let s = 0; s < credit; s++) {
      const image = cmd.images[(imageOffset + s) % cmd.images.length]!
      const frameId = `${name}.${'0'.repeat(SEQ_DIGITS)}`
      this.slots.push(encodeEnvelope({ kind: 'frame', frameId, line: cmd.line, station: name, capturedAt: 0, mime: cmd.mime, width: cmd.width, height: cmd.height, audit: false, shadow: false, ...(cmd.from ? { from: cmd.from } : {}), payload: image }))
      this.free.push(s)
    }
  }

  /** Sends the next frame in a free slot; false when every slot is in flight. */
  send(): boolean {
    const slot = this.free.pop()
    if (slot === undefined) return false
    const buf = this.slots[slot]!
    const digits = String(this.seq++).padStart(SEQ_DIGITS, '0')
    const at = (buf[2] === 2 ? FIXED_HEADER_V2 : FIXED_HEADER) + 1 + this.name.length + 1 // after the frame id's length byte and "<station>."
    for (let i = 0; i < SEQ_DIGITS; i++) buf[at + i] = digits.charCodeAt(i)
    new DataView(buf.buffer, buf.byteOffset).setFloat64(8, Date.now(), true)
    const frameId = `${this.name}.${digits}`
    this.inFlight.set(frameId, { slot, sentAt: performance.now() })
    this.socket.send(buf, { binary: true })
    return true
  }

  /** The frame's trip ended; its sending time, or undefined for a frame this station did not send. */
  finish(frameId: string): number | undefined {
    const f = this.inFlight.get(frameId)
    if (!f) return undefined
    this.inFlight.delete(frameId)
    this.free.push(f.slot)
    return f.sentAt
  }
}

function connect(url: string, name: string, line: string, token?: string): Promise<{ socket: WebSocket; credit: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) })
    const timer = setTimeout(() => {
      socket.terminate()
      reject(new Error(`station ${name}: no welcome from ${url} within ${CONNECT_TIMEOUT_MS} ms`))
    }, CONNECT_TIMEOUT_MS)
    socket.once('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    socket.once('open', () => socket.send(JSON.stringify({ type: 'hello', line, station: name })))
    socket.once('message', (data, isBinary) => {
      clearTimeout(timer)
      const m = isBinary ? undefined : (JSON.parse(String(data as Buffer)) as ServerText)
      if (m?.type !== 'welcome' || !m.credit) return reject(new Error(`station ${name}: expected welcome, got ${String(data as Buffer).slice(0, 200)}`))
      resolve({ socket, credit: m.credit })
    })
  })
}

export async function runStations(cmd: StationsCommand, onWindow: (win: { startAt: number; endAt: number }) => void): Promise<LoadResult> {
  const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`
  const names = Array.from({ length: cmd.stations }, (_, i) => `b${run}s${i}`)
  const connected = await Promise.all(names.map((n) => connect(cmd.url, n, cmd.line, cmd.token)))
  const stations = connected.map((c, i) => new Station(names[i]!, c.socket, c.credit, cmd, i * c.credit))

  const win = windowFromNow(cmd)
  onWindow(win)
  const latencies: number[] = []
  const stages: Record<string, number[]> = {}
  const refused: Record<string, number> = {}
  let blocked = 0
  let socketError: Error | undefined
  const closedLoop = cmd.rate === undefined
  const refuse = (kind: string) => {
    if (inWindow(Date.now(), win)) refused[kind] = (refused[kind] ?? 0) + 1
  }
  const sendNext = (st: Station) => {
    if (closedLoop && Date.now() < win.endAt) st.send()
  }

  for (const st of stations) {
    st.socket.on('error', (e) => (socketError ??= e))
    st.socket.on('message', (data, isBinary) => {
      if (isBinary) return refuse('unexpected_binary')
      const m = JSON.parse(String(data as Buffer)) as ServerText
      if (m.type === 'ack') {
        if (m.status === 'accepted' && cmd.completeOn === 'result') return
        if (m.status !== 'accepted') refuse(`${m.status}:${m.error?.code ?? 'none'}`)
        const sentAt = st.finish(m.frameId ?? '')
        if (sentAt !== undefined && m.status === 'accepted' && inWindow(Date.now(), win)) latencies.push(performance.now() - sentAt)
        return sendNext(st)
      }
      if (m.type === 'result' && m.result) {
        const sentAt = st.finish(m.result.frameId)
        if (sentAt === undefined) return refuse('unknown_result')
        if (inWindow(Date.now(), win)) {
          latencies.push(performance.now() - sentAt)
          for (const [k, v] of Object.entries(m.result.timings ?? {})) (stages[k] ??= []).push(v)
        }
        return sendNext(st)
      }
      if (m.type === 'error') {
        refuse(`error:${m.error?.code ?? 'none'}`)
        if (m.frameId && st.finish(m.frameId) !== undefined) sendNext(st)
      }
    })
  }

  let cpuStart = 0
  let cpuEnd = 0
  const timers = [setTimeout(() => (cpuStart = ownCpuMs()), win.startAt - Date.now()), setTimeout(() => (cpuEnd = ownCpuMs()), win.endAt - Date.now())]
  let pacer: ReturnType<typeof setTimeout> | undefined
  if (closedLoop) {
    for (const st of stations) for (let sent = true; sent; ) sent = st.send()
  } else {
    // open loop: frame k is due at t0 + k / rate, stations in turn, whether or not answers came back
    const t0 = Date.now()
    let k = 0
    const tick = () => {
      const now = Date.now()
      if (now >= win.endAt) return
      while (t0 + (k * 1000) / cmd.rate! <= now) {
        if (!stations[k % stations.length]!.send() && inWindow(now, win)) blocked++
        k++
      }
      pacer = setTimeout(tick, Math.max(0, t0 + (k * 1000) / cmd.rate! - Date.now()))
    }
    tick()
  }

  await new Promise((r) => setTimeout(r, win.endAt - Date.now() + 1))
  clearTimeout(pacer)
  if (cpuEnd === 0) cpuEnd = ownCpuMs()
  // let the last answers come back, so the next run starts on a quiet server
  const drainBy = Date.now() + DRAIN_TIMEOUT_MS
  while (stations.some((s) => s.inFlight.size) && Date.now() < drainBy && !socketError) await new Promise((r) => setTimeout(r, 20))
  const lost = stations.reduce((n, s) => n + s.inFlight.size, 0)
  for (const t of timers) clearTimeout(t)
  await Promise.all(stations.map((s) => new Promise((resolve) => (s.socket.once('close', resolve), s.socket.close()))))
  if (socketError) throw socketError
  if (lost) refused.unanswered_after_drain = lost

  const completed = latencies.length
  return {
    fps: completed / cmd.seconds,
    completed,
    latency: latencyOf(latencies),
    stagesP50: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, latencyOf(v).p50])),
    refused,
    blocked,
    ...(closedLoop ? {} : { offered: cmd.rate! }),
    credit: stations[0]!.credit,
    clientCpuMsPerFrame: (cpuEnd - cpuStart) / completed,
  }
}
