/**
 * Fans results out to the sockets that want them: the station that sent the frame (or the HTTP
 * request waiting for it) and every kiosk subscribed to the frame's line. Transport-free: the
 * gateway hands in `ClientSink`s; tests pass plain objects.
 *
 * Kiosks are served by explicit sends rather than uWS topics so that a slow kiosk can be skipped
 * *and counted*: before each send we check its buffered amount against the limit.
 */
import type { InspectionResult } from '../../shared/domain/result.ts'
import { encodeMessage } from '../../shared/protocol/codec.ts'
import type { WireError } from '../../shared/protocol/messages/error.ts'

export interface ClientSink {
  /** Bytes queued in the socket's send buffer. */
  bufferedAmount(): number
  send(text: string): void
}

/** Someone waiting for one frame's outcome: a station session or an HTTP request. */
export interface Waiter {
  result(result: InspectionResult): void
  failed(error: WireError): void
}

/** A line nobody here needs any more stays bound this long, so bursts of HTTP calls do not rebind. */
const INTEREST_LINGER_MS = 60_000

export class ResultHub {
  readonly #waiters = new Map<string, Waiter>()
  readonly #kiosks = new Map<string, Set<ClientSink>>() // line -> sinks
  readonly #kioskLines = new Map<ClientSink, readonly string[]>()
  /** Line -> holders (station sessions, HTTP requests waiting, kiosks). */
  readonly #held = new Map<string, number>()
  readonly #linger = new Map<string, ReturnType<typeof setTimeout>>()
  #applied = new Set<string>()
  #applying: Promise<void> = Promise.resolve()

  constructor(
    private readonly opts: {
      kioskMaxBufferedBytes: number
      onKioskSkipped?: () => void
      /**
       * The lines whose results this process needs changed; resolves once results of those lines
       * reach it (a RabbitMQ gateway binds its queue). Absent for the in-process bus.
       */
      setInterest?: (lines: readonly string[]) => Promise<void>
    },
  ) {}

  /**
   * Declares that this process needs the results of `line` until the returned function is
   * called. Resolves once such results are routed here, so a frame sent afterwards cannot have
   * its result miss this gateway.
   */
  async holdLine(line: string): Promise<() => void> {
    this.#held.set(line, (this.#held.get(line) ?? 0) + 1)
    const t = this.#linger.get(line)
    if (t) {
      clearTimeout(t)
      this.#linger.delete(line)
    }
    await this.#sync()
    let released = false
    return () => {
      if (released) return
      released = true
      const n = (this.#held.get(line) ?? 1) - 1
      if (n > 0) return void this.#held.set(line, n)
      this.#held.delete(line)
      const timer = setTimeout(() => {
        this.#linger.delete(line)
        this.#sync().catch(() => undefined)
      }, INTEREST_LINGER_MS)
      timer.unref?.()
      this.#linger.set(line, timer)
    }
  }

  /** Lines some station, kiosk or request of this process needs (lingering ones included). */
  interest(): string[] {
    return [...new Set([...this.#held.keys(), ...this.#linger.keys()])].sort()
  }

  #sync(): Promise<void> {
    const set = this.opts.setInterest
    if (!set) return Promise.resolve()
    // serialised, and skipped when nothing changed: one rebinding at a time, never out of order
    this.#applying = this.#applying.then(async () => {
      const lines = this.interest()
      if (lines.length === this.#applied.size && lines.every((l) => this.#applied.has(l))) return
      await set(lines)
      this.#applied = new Set(lines)
    })
    return this.#applying
  }

  /** Register interest in a frame's outcome; replaced if the frame id repeats. */
  wait(frameId: string, waiter: Waiter): () => void {
    this.#waiters.set(frameId, waiter)
    return () => {
      if (this.#waiters.get(frameId) === waiter) this.#waiters.delete(frameId)
    }
  }

  get waiting(): number {
    return this.#waiters.size
  }

  dispatch(result: InspectionResult): void {
    const waiter = this.#waiters.get(result.frameId)
    if (waiter) {
      this.#waiters.delete(result.frameId)
      waiter.result(result)
    }
    const sinks = this.#kiosks.get(result.line)
    if (!sinks || sinks.size === 0) return
    const text = encodeMessage({ type: 'result', result })
    for (const sink of sinks) {
      if (sink.bufferedAmount() > this.opts.kioskMaxBufferedBytes) {
        this.opts.onKioskSkipped?.()
        continue
      }
      sink.send(text)
    }
  }

  /** A frame will get no result (dead-lettered, refused downstream). */
  fail(frameId: string, error: WireError): void {
    const waiter = this.#waiters.get(frameId)
    if (!waiter) return
    this.#waiters.delete(frameId)
    waiter.failed(error)
  }

  /** Resolves once results of these lines reach this process. */
  async setKiosk(sink: ClientSink, lines: readonly string[]): Promise<void> {
    const releases = await Promise.all(lines.map((l) => this.holdLine(l)))
    this.removeKiosk(sink)
    for (const line of lines) {
      let set = this.#kiosks.get(line)
      if (!set) this.#kiosks.set(line, (set = new Set()))
      set.add(sink)
    }
    this.#kioskLines.set(sink, lines)
    this.#kioskRelease.set(sink, () => releases.forEach((r) => r()))
  }

  removeKiosk(sink: ClientSink): void {
    const lines = this.#kioskLines.get(sink)
    if (!lines) return
    for (const line of lines) {
      const set = this.#kiosks.get(line)
      set?.delete(sink)
      if (set?.size === 0) this.#kiosks.delete(line)
    }
    this.#kioskLines.delete(sink)
    this.#kioskRelease.get(sink)?.()
    this.#kioskRelease.delete(sink)
  }

  readonly #kioskRelease = new Map<ClientSink, () => void>()
}
