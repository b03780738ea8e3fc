/**
 * A station and a kiosk in Node, speaking the real protocol over `ws`: hello / welcome, frames as
 * binary envelopes (shared/protocol/envelope.ts), and every server message parsed with the shared
 * codec and kept, so a test can account for each frame it sent: a result, a `busy` or a
 * `rejected` ack, or still pending.
 *
 * Every message is validated against the protocol schemas; one that does not parse is kept in
 * `protocolErrors` (tests assert it stays empty) rather than thrown inside a socket callback.
 */
import WebSocket from 'ws'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { encodeMessage, parseServerMessage, type ClientMessage, type ServerMessage } from '../../shared/protocol/codec.ts'
import { encodeEnvelope, type ImageMime } from '../../shared/protocol/envelope.ts'
import type { AckMessage } from '../../shared/protocol/messages/ack.ts'
import type { ErrorMessage } from '../../shared/protocol/messages/error.ts'
import type { WelcomeMessage } from '../../shared/protocol/messages/welcome.ts'
import { authHeaders } from './server.ts'
import { waitFor } from './wait.ts'

export interface OutgoingFrame {
  frameId: string
  bytes: Uint8Array
  mime?: ImageMime
  width?: number
  height?: number
  /** The camera frame `bytes` was resized from (the model-size uplink, envelope version 2). */
  from?: { width: number; height: number }
  /** The part this frame is a view of. */
  partId?: string
}

/** How a frame's trip ended, as the station was told. */
export type Outcome = 'result' | 'busy' | 'rejected' | 'pending'

const CONNECT_TIMEOUT_MS = 30_000

/**
 * Opens a socket and resolves once it is open (or rejects with why it is not). A server this test
 * process started gets its admin token as `Authorization: Bearer` on the upgrade, as any
 * non-browser client authenticates (an admin may stream and watch every line).
 */
function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, headers: authHeaders(url) })
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error(`no WebSocket connection to ${url} within ${CONNECT_TIMEOUT_MS} ms`))
    }, CONNECT_TIMEOUT_MS)
    ws.once('open', () => {
      clearTimeout(timer)
      resolve(ws)
    })
    ws.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}

/** The parts both clients share: every server message parsed, kept, and waitable. */
abstract class ProtocolClient {
  readonly messages: ServerMessage[] = []
  readonly errors: ErrorMessage[] = []
  /** Messages that did not parse: the server broke the protocol. */
  readonly protocolErrors: string[] = []
  #closed = false

  constructor(protected readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.protocolErrors.push('a binary message from the server')
        return
      }
      const parsed = parseServerMessage(String(data as Buffer))
      if (!parsed.ok) {
        this.protocolErrors.push(`${parsed.error.code}: ${parsed.error.message}`)
        return
      }
      this.messages.push(parsed.message)
      if (parsed.message.type === 'error') this.errors.push(parsed.message)
      this.onMessage(parsed.message)
    })
    ws.on('close', () => {
      this.#closed = true
    })
    // a socket error ends in 'close'; the test sees `closed` rather than an unhandled error
    ws.on('error', () => undefined)
  }

  protected abstract onMessage(m: ServerMessage): void

  /** True once the server (or we) closed the socket. */
  get closed(): boolean {
    return this.#closed
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.ws.close()
    await waitFor(() => this.#closed, { timeoutMs: 5000, what: 'the socket to close' })
  }
}

export class StationClient extends ProtocolClient {
  readonly acks = new Map<string, AckMessage[]>()
  readonly results = new Map<string, InspectionResult[]>()
  /** Frame ids in the order they were sent. */
  readonly sent: string[] = []
  /** Frame ids the server asked the original of (`evidence-request`), in order. */
  readonly evidenceRequests: string[] = []
  /** Called for each `evidence-request`, to answer it as a station would (sendEvidence / evidence-missing). */
  onEvidenceRequest: ((frameId: string) => void) | undefined
  #unsettled = new Set<string>()

  private constructor(
    ws: WebSocket,
    readonly line: string,
    readonly station: string,
  ) {
    super(ws)
  }

  /** Connects to `<base>/ws/station`, says hello and resolves after the welcome. */
  static async connect(baseUrl: string, who: { line: string; station: string }): Promise<StationClient & { welcome: WelcomeMessage }> {
    const ws = await open(`${baseUrl.replace(/^http/, 'ws')}/ws/station`)
    const client = new StationClient(ws, who.line, who.station)
    ws.send(encodeMessage({ type: 'hello', line: who.line, station: who.station }))
    const welcome = await waitFor(() => client.messages.find((m): m is WelcomeMessage => m.type === 'welcome') ?? (client.errors[0] ? Promise.reject(new Error(`hello refused: ${JSON.stringify(client.errors[0])}`)) : undefined), {
      timeoutMs: CONNECT_TIMEOUT_MS,
      what: `welcome for ${who.line}/${who.station}`,
    })
    return Object.assign(client, { welcome })
  }

  protected onMessage(m: ServerMessage): void {
    if (m.type === 'ack') {
      const list = this.acks.get(m.frameId) ?? []
      list.push(m)
      this.acks.set(m.frameId, list)
      if (m.status === 'busy' || m.status === 'rejected') this.#unsettled.delete(m.frameId)
    } else if (m.type === 'evidence-request') {
      this.evidenceRequests.push(m.frameId)
      this.onEvidenceRequest?.(m.frameId)
    } else if (m.type === 'result') {
      const id = m.result.frameId
      const list = this.results.get(id) ?? []
      list.push(m.result)
      this.results.set(id, list)
      this.#unsettled.delete(id)
    }
  }

  send(frame: OutgoingFrame): void {
    const envelope = encodeEnvelope({
      kind: 'frame',
      frameId: frame.frameId,
      line: this.line,
      station: this.station,
      capturedAt: Date.now(),
      mime: frame.mime ?? 'image/jpeg',
      width: frame.width ?? 640,
      height: frame.height ?? 480,
      audit: false,
      shadow: false,
      ...(frame.from ? { from: frame.from } : {}),
      ...(frame.partId ? { partId: frame.partId } : {}),
      payload: frame.bytes,
    })
    this.sent.push(frame.frameId)
    this.#unsettled.add(frame.frameId)
    this.ws.send(envelope, { binary: true })
  }

  /** A frame's full-resolution original, as a binary envelope of kind `evidence`. */
  sendEvidence(frame: Omit<OutgoingFrame, 'from' | 'partId'>): void {
    const envelope = encodeEnvelope({
      kind: 'evidence',
      frameId: frame.frameId,
      line: this.line,
      station: this.station,
      capturedAt: Date.now(),
      mime: frame.mime ?? 'image/jpeg',
      width: frame.width ?? 640,
      height: frame.height ?? 480,
      audit: false,
      shadow: false,
      payload: frame.bytes,
    })
    this.ws.send(envelope, { binary: true })
  }

  /** A JSON message (part-end, skips...). */
  sendMessage(m: ClientMessage): void {
    this.ws.send(encodeMessage(m))
  }

  /**
   * Sends every frame, never more than `window` unsettled at once (as a station keeps to its
   * credit); resolves when the last one was sent, not when it settled.
   */
  async sendAll(frames: readonly OutgoingFrame[], opts: { window: number; timeoutMs?: number }): Promise<void> {
    for (const f of frames) {
      if (this.#unsettled.size >= opts.window) {
        await waitFor(() => this.#unsettled.size < opts.window || this.closed, { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 5, what: `room in a window of ${opts.window} frames` })
      }
      if (this.closed) throw new Error(`the station socket closed after ${this.sent.length} frames`)
      this.send(f)
    }
  }

  /** The last ack status the server gave a frame, if any. */
  ackStatus(frameId: string): AckMessage['status'] | undefined {
    return this.acks.get(frameId)?.at(-1)?.status
  }

  outcome(frameId: string): Outcome {
    if (this.results.has(frameId)) return 'result'
    const status = this.ackStatus(frameId)
    return status === 'busy' || status === 'rejected' ? status : 'pending'
  }

  /** Frames sent that have neither a result nor a busy/rejected ack. */
  unsettled(): string[] {
    return [...this.#unsettled]
  }

  /** Sent frame ids grouped by outcome. */
  tally(): Record<Outcome, string[]> {
    const out: Record<Outcome, string[]> = { result: [], busy: [], rejected: [], pending: [] }
    for (const id of this.sent) out[this.outcome(id)].push(id)
    return out
  }

  /** Waits until every frame sent so far has a result or a busy/rejected ack. */
  async settled(timeoutMs = 60_000): Promise<void> {
    await waitFor(() => this.#unsettled.size === 0, { timeoutMs, intervalMs: 20, what: `every frame of ${this.station} to settle (${this.#unsettled.size} unsettled: ${[...this.#unsettled].slice(0, 5).join(', ')})` })
  }
}

export class KioskClient extends ProtocolClient {
  readonly results: InspectionResult[] = []

  protected onMessage(m: ServerMessage): void {
    if (m.type === 'result') this.results.push(m.result)
  }

  /** Connects to `<base>/ws/kiosk` and resolves once the subscription is confirmed. */
  static async connect(baseUrl: string, lines: string[]): Promise<KioskClient> {
    const ws = await open(`${baseUrl.replace(/^http/, 'ws')}/ws/kiosk`)
    const client = new KioskClient(ws)
    ws.send(encodeMessage({ type: 'subscribe', lines }))
    await waitFor(() => client.messages.some((m) => m.type === 'subscribed') || (client.errors[0] ? Promise.reject(new Error(`subscribe refused: ${JSON.stringify(client.errors[0])}`)) : false), {
      timeoutMs: CONNECT_TIMEOUT_MS,
      what: `kiosk subscription to ${lines.join(',')}`,
    })
    return client
  }

  /** Distinct frame ids seen (a kiosk may see a result twice after a redelivery). */
  frameIds(): Set<string> {
    return new Set(this.results.map((r) => r.frameId))
  }
}
