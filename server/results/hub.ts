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

export class ResultHub {
  readonly #waiters = new Map<string, Waiter>()
  readonly #kiosks = new Map<string, Set<ClientSink>>() // line -> sinks
  readonly #kioskLines = new Map<ClientSink, readonly string[]>()
  readonly #interest = new Set<() => void>()

  constructor(
    private readonly opts: {
      kioskMaxBufferedBytes: number
      onKioskSkipped?: () => void
    },
  ) {}

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

  setKiosk(sink: ClientSink, lines: readonly string[]): void {
    this.removeKiosk(sink)
    for (const line of lines) {
      let set = this.#kiosks.get(line)
      if (!set) this.#kiosks.set(line, (set = new Set()))
      set.add(sink)
    }
    this.#kioskLines.set(sink, lines)
    this.#changed()
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
    this.#changed()
  }

  /** Lines some kiosk of this process watches. */
  kioskLines(): string[] {
    return [...this.#kiosks.keys()]
  }

  onInterestChange(listener: () => void): () => void {
    this.#interest.add(listener)
    return () => this.#interest.delete(listener)
  }

  #changed(): void {
    for (const l of this.#interest) l()
  }
}
