/**
 * A WebSocket that keeps reconnecting, with full-jitter backoff, until stopped. It knows nothing of
 * the protocol: the owner sends its greeting in `onOpen` and calls `markOnline()` once the server
 * answered it, which is when the backoff starts over (a server that accepts the TCP connection
 * and then fails the handshake must not be hammered).
 */
import type { WireError } from '../../shared/protocol/messages/error.ts'
import { Backoff, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.ts'

export type LinkState = 'connecting' | 'online' | 'offline' | 'closed'

export interface LinkStatus {
  state: LinkState
  /** Failed tries since the last good connection. */
  attempt: number
  /** When the next try starts, ms since the epoch; null unless offline. */
  retryAt: number | null
  lastError: WireError | null
  /** When the state last changed, ms since the epoch. */
  since: number
}

/** The part of the WebSocket API used here; the browser's and the `ws` package's both fit. */
export interface SocketLike {
  binaryType: string
  readonly readyState: number
  readonly bufferedAmount: number
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code: number; reason: string }) => void) | null
  onerror: ((ev: unknown) => void) | null
  send(data: string | Uint8Array): void
  close(code?: number, reason?: string): void
}
export type SocketFactory = (url: string) => SocketLike

export interface ReconnectingSocketOptions {
  url: () => string
  /** Sends the greeting. */
  onOpen: (send: (data: string) => void) => void
  onText: (text: string) => void
  /** The connection is gone (whatever the reason); in-flight state must be reset. */
  onDisconnect?: () => void
  onStatus: (status: LinkStatus) => void
  backoff?: BackoffPolicy
  random?: () => number
  /** The server must answer the greeting within this, or the connection is dropped, ms. */
  handshakeTimeoutMs?: number
  /**
   * Silence longer than this means a dead connection (Wi-Fi gone without a FIN), ms. Only for
   * sockets the server talks on regularly; unset: never.
   */
  silenceTimeoutMs?: number
  create?: SocketFactory
}

const OPEN = 1
/** The server's close code for a revoked token (server/auth/headers.ts). */
export const REVOKED_CLOSE_CODE = 4001

export class ReconnectingSocket {
  readonly #o: ReconnectingSocketOptions
  readonly #backoff: Backoff
  readonly #create: SocketFactory
  #ws: SocketLike | null = null
  #retryTimer: ReturnType<typeof setTimeout> | null = null
  #handshakeTimer: ReturnType<typeof setTimeout> | null = null
  #silenceTimer: ReturnType<typeof setInterval> | null = null
  #lastMessageAt = 0
  #status: LinkStatus = { state: 'closed', attempt: 0, retryAt: null, lastError: null, since: Date.now() }

  constructor(options: ReconnectingSocketOptions) {
    this.#o = options
    this.#backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF, options.random)
    this.#create = options.create ?? ((url) => new WebSocket(url) as unknown as SocketLike)
  }

  get status(): LinkStatus {
    return this.#status
  }

  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0
  }

  start(): void {
    if (this.#status.state !== 'closed') return
    // the browser knows when the Wi-Fi is back before our backoff does
    globalThis.addEventListener?.('online', this.#onBrowserOnline)
    this.#connect()
  }

  stop(): void {
    globalThis.removeEventListener?.('online', this.#onBrowserOnline)
    this.#clearTimers()
    const ws = this.#ws
    this.#ws = null
    if (ws) {
      this.#detach(ws)
      ws.close(1000, 'station closed')
      this.#o.onDisconnect?.()
    }
    this.#setStatus({ state: 'closed', retryAt: null })
  }

  readonly #onBrowserOnline = (): void => this.retryNow()

  /** Skips the wait (the operator pressed "retry", or the browser says the network is back). */
  retryNow(): void {
    if (this.#status.state !== 'offline') return
    if (this.#retryTimer) clearTimeout(this.#retryTimer)
    this.#retryTimer = null
    this.#connect()
  }

  /** The server answered the greeting: the connection is usable. */
  markOnline(): void {
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer)
    this.#handshakeTimer = null
    this.#backoff.reset()
    this.#setStatus({ state: 'online', attempt: 0, retryAt: null, lastError: null })
  }

  /** False when there is no open socket; the data was not sent. */
  send(data: string | Uint8Array): boolean {
    const ws = this.#ws
    if (!ws || ws.readyState !== OPEN) return false
    ws.send(data)
    return true
  }

  /** Drops the connection and tries again after the backoff, e.g. for a protocol violation. */
  fail(error: WireError): void {
    const ws = this.#ws
    if (!ws) return
    this.#lost(ws, error)
  }

  #connect(): void {
    this.#retryTimer = null
    this.#setStatus({ state: 'connecting', retryAt: null })
    let ws: SocketLike
    try {
      ws = this.#create(this.#o.url())
    } catch (e) {
      // a malformed URL throws synchronously; it is retried like any failure so the error shows
      this.#scheduleRetry({ code: 'socket_create_failed', message: (e as Error).message })
      return
    }
    ws.binaryType = 'arraybuffer'
    this.#ws = ws
    ws.onopen = () => {
      this.#lastMessageAt = Date.now()
      this.#handshakeTimer = setTimeout(
        () => this.#lost(ws, { code: 'handshake_timeout', message: `no answer to the greeting within ${this.#o.handshakeTimeoutMs ?? 10_000} ms` }),
        this.#o.handshakeTimeoutMs ?? 10_000,
      )
      if (this.#o.silenceTimeoutMs) this.#watchSilence(ws, this.#o.silenceTimeoutMs)
      this.#o.onOpen((text) => this.send(text))
    }
    ws.onmessage = (ev) => {
      this.#lastMessageAt = Date.now()
      if (typeof ev.data === 'string') this.#o.onText(ev.data)
    }
    ws.onerror = () => {
      // the browser gives no reason on error events; onclose follows with the code
    }
    ws.onclose = (ev) => {
      if (ev.code === REVOKED_CLOSE_CODE) this.#revoked(ws, ev.reason)
      else this.#lost(ws, { code: 'socket_closed', message: `connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})` })
    }
  }

  /** The server revoked this device: trying again cannot help, so the link stays closed with why. */
  #revoked(ws: SocketLike, reason: string): void {
    if (ws !== this.#ws) return
    this.#ws = null
    this.#detach(ws)
    this.#clearTimers()
    globalThis.removeEventListener?.('online', this.#onBrowserOnline)
    this.#o.onDisconnect?.()
    this.#setStatus({ state: 'closed', retryAt: null, lastError: { code: 'revoked', message: reason || 'this device was revoked' } })
  }

  #watchSilence(ws: SocketLike, limitMs: number): void {
    this.#silenceTimer = setInterval(() => {
      if (Date.now() - this.#lastMessageAt > limitMs) {
        this.#lost(ws, { code: 'silent', message: `no message from the server for ${limitMs} ms` })
      }
    }, Math.max(250, limitMs / 4))
  }

  #lost(ws: SocketLike, error: WireError): void {
    if (ws !== this.#ws) return
    this.#ws = null
    this.#detach(ws)
    if (ws.readyState <= OPEN) ws.close(4000, error.code)
    this.#o.onDisconnect?.()
    this.#scheduleRetry(error)
  }

  #scheduleRetry(error: WireError): void {
    this.#clearTimers()
    const delay = this.#backoff.next()
    this.#retryTimer = setTimeout(() => this.#connect(), delay)
    this.#setStatus({ state: 'offline', attempt: this.#backoff.attempt, retryAt: Date.now() + delay, lastError: error })
  }

  #detach(ws: SocketLike): void {
    ws.onopen = ws.onmessage = null
    ws.onclose = null
    // closing a socket that is still connecting fires one last error (the `ws` package throws it
    // when nobody listens); it concerns a socket this station has already given up on
    ws.onerror = () => {}
  }

  #clearTimers(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer)
    if (this.#handshakeTimer) clearTimeout(this.#handshakeTimer)
    if (this.#silenceTimer) clearInterval(this.#silenceTimer)
    this.#retryTimer = this.#handshakeTimer = this.#silenceTimer = null
  }

  #setStatus(patch: Partial<LinkStatus>): void {
    const next = { ...this.#status, ...patch }
    if (next.state !== this.#status.state) next.since = Date.now()
    this.#status = next
    this.#o.onStatus(next)
  }
}
