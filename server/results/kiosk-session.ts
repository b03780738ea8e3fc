/**
 * One kiosk's connection, transport-free: it subscribes to lines and then only listens.
 */
import { encodeMessage, parseClientMessage, type ServerMessage } from '../../shared/protocol/codec.ts'
import { canUseLine, type Principal } from '../auth/principal.ts'
import type { ClientSink, ResultHub } from './hub.ts'

export interface KioskDeps {
  hub: ResultHub
  authenticate(token: string | undefined): Promise<Principal | null>
}

export class KioskSession {
  constructor(
    private readonly deps: KioskDeps,
    private readonly sink: ClientSink,
    private principal: Principal,
  ) {}

  #send(m: ServerMessage): void {
    this.sink.send(encodeMessage(m))
  }

  async onText(text: string): Promise<void> {
    const parsed = parseClientMessage(text)
    if (!parsed.ok) return this.#send({ type: 'error', ...(parsed.id ? { id: parsed.id } : {}), error: parsed.error })
    const m = parsed.message
    const ids = 'id' in m && m.id ? { id: m.id } : {}
    if (m.type !== 'subscribe') {
      return this.#send({ type: 'error', ...ids, error: { code: 'wrong_socket', message: `"${m.type}" is not accepted on /ws/kiosk; send subscribe` } })
    }
    if (m.token !== undefined) {
      const p = await this.deps.authenticate(m.token)
      if (!p) return this.#send({ type: 'error', ...ids, error: { code: 'unauthorized', message: 'token not valid' } })
      this.principal = p
    }
    const denied = m.lines.filter((l) => !canUseLine(this.principal, l))
    if (denied.length) {
      return this.#send({ type: 'error', ...ids, error: { code: 'forbidden', message: `this token may not watch line(s) ${denied.join(', ')}` } })
    }
    const lines = [...new Set(m.lines)]
    await this.deps.hub.setKiosk(this.sink, lines)
    this.#send({ type: 'subscribed', ...ids, lines })
  }

  close(): void {
    this.deps.hub.removeKiosk(this.sink)
  }
}
