/**
 * The station link against a real WebSocket server (the `ws` package) that speaks the protocol
 * through the shared codec, so hello, credit, acks and reconnects are exercised over a socket.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer, type WebSocket as ServerSocket } from 'ws'
import { encodeMessage, parseClientMessage } from '../../shared/protocol/codec.ts'
import { decodeEnvelope, type FrameEnvelope } from '../../shared/protocol/envelope.ts'
import type { WelcomeMessage } from '../../shared/protocol/messages/welcome.ts'
import type { ClientMessage } from '../../shared/protocol/codec.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import type { SocketLike } from './socket.ts'
import { StationLink, type StationLinkEvent } from './station-link.ts'
import { waitFor } from '../../test/helpers/wait.ts'

function welcome(credit: number): WelcomeMessage {
  const model = { name: 'detector', version: '1', sha256: 'a'.repeat(64), url: '/models/detector/x.onnx', manifestUrl: '/models/detector/manifest.json' }
  return {
    type: 'welcome',
    credit,
    maxFrameBytes: 1 << 20,
    settings: {
      line: 'L1',
      model: 'detector',
      policy: 'server-only',
      prefilter: { enabled: false, change: 0, sharpness: 0, exposureLow: 0, exposureHigh: 1, clipped: 1, partPresent: 0 },
      auditFraction: 0,
      shadowFraction: 0,
      scoreThresholds: {},
      captureFps: 5,
    },
    load: { at: 0, queueDepth: 0, inFlight: 0, workers: 1, p95Ms: 0, estimatedWaitMs: 0, serverInferMs: 0, policy: 'server-only', paused: false },
    models: { detector: model },
  }
}

function resultOf(f: FrameEnvelope): InspectionResult {
  return {
    frameId: f.frameId, line: f.line, station: f.station, capturedAt: f.capturedAt, model: { name: 'detector', version: '1' },
    inferredAt: 'server', ep: 'cpu', detections: [], verdict: 'pass', timings: { infer: 7 },
  }
}

interface Peer {
  socket: ServerSocket
  messages: ClientMessage[]
  frames: FrameEnvelope[]
}

async function fakeServer(credit: number | (() => number)) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
  await new Promise<void>((r) => wss.once('listening', () => r()))
  const peers: Peer[] = []
  wss.on('connection', (socket) => {
    const peer: Peer = { socket, messages: [], frames: [] }
    peers.push(peer)
    socket.on('message', (data, isBinary) => {
      if (isBinary) {
        const decoded = decodeEnvelope(new Uint8Array(data as Buffer), { maxPayloadBytes: 1 << 20 })
        if (decoded.ok) peer.frames.push({ ...decoded.envelope, payload: decoded.envelope.payload.slice() })
        return
      }
      const parsed = parseClientMessage(String(data as Buffer))
      if (!parsed.ok) throw new Error(parsed.error.message)
      peer.messages.push(parsed.message)
      if (parsed.message.type === 'hello') socket.send(encodeMessage(welcome(typeof credit === 'number' ? credit : credit())))
    })
  })
  const port = (wss.address() as { port: number }).port
  return { wss, peers, url: `ws://127.0.0.1:${port}/ws/station` }
}

const cleanups: (() => void | Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(credit: number, also?: (e: StationLinkEvent, link: StationLink) => void) {
  const server = await fakeServer(credit)
  const events: StationLinkEvent[] = []
  const link: StationLink = new StationLink({
    line: 'L1',
    station: 'S1',
    url: () => server.url,
    onEvent: (e) => {
      events.push(e)
      also?.(e, link)
    },
    socket: { create: (url) => new WebSocket(url) as unknown as SocketLike, backoff: { baseMs: 20, maxMs: 100 } },
  })
  cleanups.push(() => new Promise<void>((r) => server.wss.close(() => r())))
  cleanups.push(() => link.stop())
  link.start()
  await waitFor(() => link.online, { what: 'welcome', intervalMs: 5 })
  return { server, link, events }
}

let n = 0
function offer(link: StationLink): boolean {
  const frameId = `f-${++n}`
  const meta = { capturedAt: Date.now(), width: 4, height: 2, timings: { capture: 1, encode: 2 } }
  if (!link.reserve(frameId, meta)) return false
  return link.send({ frameId, ...meta, mime: 'image/jpeg', bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]) })
}

describe('station link', () => {
  it('says hello with its line and station before anything else', async () => {
    const { server } = await setup(4)
    expect(server.peers[0]!.messages[0]).toMatchObject({ type: 'hello', line: 'L1', station: 'S1' })
  })

  it('never has more frames unacknowledged than the credit, and drops and counts the rest', async () => {
    const { server, link, events } = await setup(2)
    const results = Array.from({ length: 5 }, () => offer(link))
    expect(results).toEqual([true, true, false, false, false])
    const peer = server.peers[0]!
    await waitFor(() => peer.frames.length === 2, { what: 'two frames at the server', intervalMs: 5 })
    expect(peer.frames.map((f) => [f.line, f.station, f.kind])).toEqual([
      ['L1', 'S1', 'frame'],
      ['L1', 'S1', 'frame'],
    ])

    // accepted: the server still counts the frame against the credit until its result
    peer.socket.send(encodeMessage({ type: 'ack', frameId: peer.frames[0]!.frameId, status: 'accepted' }))
    await waitFor(() => events.some((e) => e.type === 'ack'), { what: 'the ack', intervalMs: 5 })
    expect(offer(link)).toBe(false)
    peer.socket.send(encodeMessage({ type: 'result', result: resultOf(peer.frames[0]!) }))
    await waitFor(() => events.some((e) => e.type === 'result'), { what: 'the result', intervalMs: 5 })
    expect(offer(link)).toBe(true)
    expect(offer(link)).toBe(false)
    // busy frees the slot at once
    peer.socket.send(encodeMessage({ type: 'ack', frameId: peer.frames[1]!.frameId, status: 'busy' }))
    await waitFor(() => events.filter((e) => e.type === 'ack').length === 2, { what: 'the busy ack', intervalMs: 5 })
    expect(offer(link)).toBe(true)
    await waitFor(() => peer.frames.length === 4, { what: 'four frames at the server', intervalMs: 5 })
    const counts = events.filter((e) => e.type === 'counts').at(-1)
    expect(counts).toMatchObject({ type: 'counts', inFlight: 2, counts: { sent: 4, accepted: 1, busy: 1, completed: 1, dropped: { credit: 5 } } })
  })

  it('hands an evidence request on, and sends the original as an evidence envelope outside the credit', async () => {
    const { server, link, events } = await setup(1)
    const peer = server.peers[0]!
    expect(offer(link)).toBe(true)
    peer.socket.send(encodeMessage({ type: 'evidence-request', frameId: 'f-old' }))
    await waitFor(() => events.some((e) => e.type === 'evidence-request'), { what: 'the evidence request', intervalMs: 5 })
    expect(events.find((e) => e.type === 'evidence-request')).toEqual({ type: 'evidence-request', frameId: 'f-old' })
    const original = { frameId: 'f-old', capturedAt: 1, mime: 'image/jpeg' as const, width: 1280, height: 960, bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]) }
    expect(link.sendEvidence(original)).toBe(true)
    // over the server's maxFrameBytes it does not go: the caller says evidence-missing instead
    expect(link.sendEvidence({ ...original, bytes: new Uint8Array((1 << 20) + 1) })).toBe(false)
    await waitFor(() => peer.frames.some((f) => f.kind === 'evidence'), { what: 'the evidence envelope', intervalMs: 5 })
    expect(peer.frames.filter((f) => f.kind === 'evidence').map((f) => [f.frameId, f.width, f.height])).toEqual([['f-old', 1280, 960]])
  })

  it('follows a credit change from the server', async () => {
    const { server, link, events } = await setup(1)
    server.peers[0]!.socket.send(encodeMessage({ type: 'credit', credit: 3 }))
    await waitFor(() => events.some((e) => e.type === 'credit'), { what: 'the credit message', intervalMs: 5 })
    expect([offer(link), offer(link), offer(link), offer(link)]).toEqual([true, true, true, false])
  })

  it('hands a result back with the client timings of its frame', async () => {
    const { server, link, events } = await setup(4)
    offer(link)
    const peer = server.peers[0]!
    await waitFor(() => peer.frames.length === 1, { what: 'a frame', intervalMs: 5 })
    const f = peer.frames[0]!
    peer.socket.send(encodeMessage({ type: 'ack', frameId: f.frameId, status: 'accepted' }))
    peer.socket.send(encodeMessage({ type: 'result', result: resultOf(f) }))
    await waitFor(() => events.some((e) => e.type === 'result'), { what: 'the result', intervalMs: 5 })
    const r = events.find((e) => e.type === 'result')
    expect(r).toMatchObject({ type: 'result', result: { frameId: f.frameId }, frame: { frameId: f.frameId, timings: { capture: 1, encode: 2 } } })
    if (r?.type !== 'result' || !r.frame) throw new Error('no frame with the result')
    expect(r.frame.ackedAt).toBeGreaterThanOrEqual(r.frame.sentAt)
  })

  it('reports a malformed server message as an error and keeps the connection', async () => {
    const { server, link, events } = await setup(4)
    server.peers[0]!.socket.send('{"type":"ack"}')
    await waitFor(() => events.some((e) => e.type === 'error'), { what: 'the error event', intervalMs: 5 })
    expect(events.find((e) => e.type === 'error')).toMatchObject({ error: { code: 'bad_message' } })
    expect(link.online).toBe(true)
    expect(offer(link)).toBe(true)
  })

  it('sends frames in flight again after a reconnect, with the same ids and bytes, in order, before new frames', async () => {
    // offered the moment the link says it is offline: on a loaded machine a poll could come only
    // after the reconnect (20 ms backoff) and find it online again
    const offeredOffline: boolean[] = []
    const { server, link, events } = await setup(4, (e, l) => {
      if (e.type === 'status' && e.status.state === 'offline' && !offeredOffline.length) offeredOffline.push(offer(l))
    })
    for (let i = 0; i < 4; i++) offer(link)
    const first = server.peers[0]!
    await waitFor(() => first.frames.length === 4, { what: 'frames at the server', intervalMs: 5 })
    const [done, busy, accepted, unanswered] = first.frames as [FrameEnvelope, FrameEnvelope, FrameEnvelope, FrameEnvelope]
    // answered before the drop: a result and a busy are final, not sent again
    first.socket.send(encodeMessage({ type: 'ack', frameId: done.frameId, status: 'accepted' }))
    first.socket.send(encodeMessage({ type: 'result', result: resultOf(done) }))
    first.socket.send(encodeMessage({ type: 'ack', frameId: busy.frameId, status: 'busy' }))
    first.socket.send(encodeMessage({ type: 'ack', frameId: accepted.frameId, status: 'accepted' }))
    await waitFor(() => events.filter((e) => e.type === 'ack').length === 3 && events.some((e) => e.type === 'result'), { what: 'the answers', intervalMs: 5 })
    first.socket.terminate()
    await waitFor(() => events.some((e) => e.type === 'status' && e.status.state === 'offline'), { what: 'offline', intervalMs: 5 })
    const offline = events.find((e) => e.type === 'status' && e.status.state === 'offline')
    expect(offline).toMatchObject({ status: { attempt: 1, lastError: { code: 'socket_closed' } } })
    expect(offeredOffline).toEqual([false])

    await waitFor(() => server.peers.length === 2 && link.online, { what: 'second connection', intervalMs: 5 })
    const second = server.peers[1]!
    expect(second.messages[0]).toMatchObject({ type: 'hello', line: 'L1', station: 'S1' })
    expect(link.status.attempt).toBe(0)
    // a new camera frame right after the welcome goes behind the resent ones
    expect(offer(link)).toBe(true)
    await waitFor(() => second.frames.length === 3, { what: 'the resent frames and the new one', intervalMs: 5 })
    expect(second.frames.map((f) => f.frameId)).toEqual([accepted.frameId, unanswered.frameId, `f-${n}`])
    expect(Array.from(second.frames[0]!.payload)).toEqual(Array.from(accepted.payload))
    expect(second.frames[1]).toMatchObject({ kind: 'frame', line: 'L1', station: 'S1', capturedAt: unanswered.capturedAt, width: unanswered.width })
    const counts = events.filter((e) => e.type === 'counts').at(-1)
    expect(counts).toMatchObject({ counts: { sent: 5, resent: 2, lost: 0, busy: 1, completed: 1, dropped: { offline: 1 } }, inFlight: 3 })

    // the resent frame is answered on the new connection like any other, its client timings kept
    second.socket.send(encodeMessage({ type: 'ack', frameId: accepted.frameId, status: 'accepted' }))
    second.socket.send(encodeMessage({ type: 'result', result: resultOf(accepted) }))
    await waitFor(() => events.filter((e) => e.type === 'result').length === 2, { what: 'the resent frame\'s result', intervalMs: 5 })
    expect(events.filter((e) => e.type === 'result').at(-1)).toMatchObject({ result: { frameId: accepted.frameId }, frame: { frameId: accepted.frameId, timings: { capture: 1, encode: 2 } } })
  })

  it('sends a held frame once the new credit has room, and keeps new frames out until then', async () => {
    let credit = 2
    const server = await fakeServer(() => credit)
    const events: StationLinkEvent[] = []
    const link = new StationLink({
      line: 'L1', station: 'S1', url: () => server.url, onEvent: (e) => events.push(e),
      socket: { create: (url) => new WebSocket(url) as unknown as SocketLike, backoff: { baseMs: 20, maxMs: 100 } },
    })
    cleanups.push(() => new Promise<void>((r) => server.wss.close(() => r())))
    cleanups.push(() => link.stop())
    link.start()
    await waitFor(() => link.online, { what: 'welcome', intervalMs: 5 })
    offer(link)
    offer(link)
    await waitFor(() => server.peers[0]!.frames.length === 2, { what: 'frames at the server', intervalMs: 5 })
    const [a, b] = server.peers[0]!.frames as [FrameEnvelope, FrameEnvelope]
    credit = 1
    server.peers[0]!.socket.terminate()
    await waitFor(() => server.peers.length === 2 && link.online, { what: 'second connection', intervalMs: 5 })
    const second = server.peers[1]!
    await waitFor(() => second.frames.length === 1, { what: 'the first held frame', intervalMs: 5 })
    expect(offer(link)).toBe(false)
    second.socket.send(encodeMessage({ type: 'ack', frameId: a.frameId, status: 'accepted' }))
    second.socket.send(encodeMessage({ type: 'result', result: resultOf(a) }))
    await waitFor(() => second.frames.length === 2, { what: 'the second held frame', intervalMs: 5 })
    expect(second.frames.map((f) => f.frameId)).toEqual([a.frameId, b.frameId])
    expect(offer(link)).toBe(false)
  })

  it('hands on one result per frame id, however often the server answers it', async () => {
    const { server, link, events } = await setup(2)
    offer(link)
    const peer = server.peers[0]!
    await waitFor(() => peer.frames.length === 1, { what: 'a frame', intervalMs: 5 })
    const f = peer.frames[0]!
    peer.socket.send(encodeMessage({ type: 'result', result: resultOf(f) }))
    peer.socket.send(encodeMessage({ type: 'result', result: resultOf(f) }))
    peer.socket.send(encodeMessage({ type: 'ack', frameId: 'marker', status: 'recorded' }))
    await waitFor(() => events.some((e) => e.type === 'ack' && e.ack.frameId === 'marker'), { what: 'the marker after both results', intervalMs: 5 })
    expect(events.filter((e) => e.type === 'result').map((e) => e.type === 'result' && e.result.frameId)).toEqual([f.frameId])
    expect(events.filter((e) => e.type === 'counts').at(-1)).toMatchObject({ counts: { completed: 1 }, inFlight: 0 })
  })

  it('sends a browser result and then the failing part\'s image as a resultImage envelope with the same frame id', async () => {
    const { server, link, events } = await setup(1)
    const result: InspectionResult & { inferredAt: 'browser' } = {
      frameId: 'local-1', line: 'L1', station: 'S1', capturedAt: 5, model: { name: 'detector', version: '1' }, inferredAt: 'browser',
      ep: 'wasm', detections: [{ classId: 1, class: 'scratch', score: 0.9, box: [1, 2, 3, 4] }], verdict: 'fail', timings: { infer: 30 }, source: 'browser', width: 4, height: 2,
    }
    const jpeg = new Uint8Array([0xff, 0xd8, 9, 0xff, 0xd9])
    expect(link.sendBrowserResult(result, { mime: 'image/jpeg', width: 4, height: 2, bytes: jpeg })).toBe(true)
    const peer = server.peers[0]!
    await waitFor(() => peer.frames.length === 1 && peer.messages.length === 2, { what: 'the result and its image', intervalMs: 5 })
    expect(peer.messages[1]).toMatchObject({ type: 'browser-result', id: 'local-1', hasImage: true, result: { frameId: 'local-1', verdict: 'fail' } })
    expect(peer.frames[0]).toMatchObject({ kind: 'resultImage', frameId: 'local-1', width: 4, height: 2, mime: 'image/jpeg' })
    expect(Array.from(peer.frames[0]!.payload)).toEqual(Array.from(jpeg))
    // a browser result takes no credit: a frame can still be sent
    expect(offer(link)).toBe(true)
    // the server's "recorded" ack reaches the owner, though no frame of the window matches it
    peer.socket.send(encodeMessage({ type: 'ack', id: 'local-1', frameId: 'local-1', status: 'recorded' }))
    await waitFor(() => events.some((e) => e.type === 'ack' && e.ack.status === 'recorded'), { what: 'the recorded ack', intervalMs: 5 })
  })

  it('refuses to send its own messages while offline instead of queueing them', async () => {
    const { server, link } = await setup(1)
    expect(link.sendMessage({ type: 'skips', counts: { unchanged: 3 } })).toBe(true)
    await waitFor(() => server.peers[0]!.messages.some((m) => m.type === 'skips'), { what: 'the skips report', intervalMs: 5 })
    // the server goes away for good: reconnects fail, the link stays offline
    await new Promise<void>((r) => {
      server.wss.close(() => r())
      server.peers[0]!.socket.terminate()
    })
    await waitFor(() => !link.online && link.status.state === 'offline', { what: 'offline', intervalMs: 5 })
    expect(link.sendMessage({ type: 'skips', counts: { unchanged: 1 } })).toBe(false)
    expect(link.sendBrowserResult({ ...resultOf({ frameId: 'x', line: 'L1', station: 'S1', capturedAt: 1 } as FrameEnvelope), inferredAt: 'browser' })).toBe(false)
  })

  it('counts frames dropped before they had a credit slot', async () => {
    const { link, events } = await setup(1)
    link.drop('encoder')
    link.drop('encoder')
    expect(events.filter((e) => e.type === 'counts').at(-1)).toMatchObject({ counts: { dropped: { encoder: 2 } } })
  })
})
