/**
 * Settings changes across PostgreSQL clients: `pg_notify` inside the writing transaction (sent
 * only if it commits) and one dedicated LISTEN connection per process. NOTIFY is database-wide,
 * so the payload names the schema and listeners ignore other schemas; it also names the sending
 * process, which already told its own listeners.
 *
 * A dropped LISTEN connection is reopened with backoff; notifications sent while it was down are
 * lost, so every (re)connect asks for a full comparison.
 */
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import type { ChangeCallback, ChangeFeed } from './change-feed.ts'
import type { Logger } from './errors.ts'
import { pgClientConfig, type PgDbOptions } from './pg-db.ts'
import type { Tx } from './sql.ts'

const CHANNEL = 'linesight_settings'
/** application_name of the LISTEN connection. */
export const LISTENER_NAME = 'linesight-settings-listener'
const MAX_BACKOFF_MS = 30_000

interface Payload {
  schema: string
  key: string
  origin: string
}

export class PgNotifyFeed implements ChangeFeed {
  readonly #origin = randomUUID()
  readonly #config: Pick<PgDbOptions, 'connectionString' | 'schema'>
  readonly #log: Logger
  #schema: string | undefined
  #client: pg.Client | undefined
  #changed: ChangeCallback | undefined
  #retry: NodeJS.Timeout | undefined
  #backoffMs = 500
  #stopped = false

  constructor(config: Pick<PgDbOptions, 'connectionString' | 'schema'>, log: Logger) {
    this.#config = config
    this.#log = log
  }

  async announce(tx: Tx, key: string): Promise<void> {
    const row = await tx.one<{ schema: string }>('SELECT current_schema() AS schema')
    const payload: Payload = { schema: row?.schema ?? '', key, origin: this.#origin }
    await tx.all('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify(payload)])
  }

  async start(changed: ChangeCallback): Promise<void> {
    this.#changed = changed
    this.#stopped = false
    await this.#connect()
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(pgClientConfig(this.#config, LISTENER_NAME))
    client.on('error', (err) => this.#lost(client, err))
    client.on('end', () => this.#lost(client, new Error('connection ended')))
    client.on('notification', (n) => this.#onNotification(n))
    try {
      await client.connect()
      this.#schema = (await client.query<{ schema: string }>('SELECT current_schema() AS schema')).rows[0]?.schema
      await client.query(`LISTEN ${CHANNEL}`)
    } catch (err) {
      client.removeAllListeners('end')
      client.end().catch(() => undefined) // the connect error is the one reported
      throw err
    }
    if (this.#stopped) {
      client.removeAllListeners('end')
      await client.end()
      return
    }
    this.#client = client
    this.#backoffMs = 500
  }

  #onNotification(n: pg.Notification): void {
    if (n.channel !== CHANNEL || !n.payload) return
    let p: Payload
    try {
      p = JSON.parse(n.payload) as Payload
    } catch (err) {
      this.#log.warn({ err, payload: n.payload }, 'storage: ignoring a malformed settings notification')
      return
    }
    if (p.schema === this.#schema && p.origin !== this.#origin && typeof p.key === 'string') this.#changed?.(p.key)
  }

  #lost(client: pg.Client, err: Error): void {
    if (this.#stopped || client !== this.#client) return
    this.#client = undefined
    client.removeAllListeners('end')
    client.end().catch(() => undefined) // already broken; its error is the one logged below
    this.#log.warn({ err }, 'storage: the settings LISTEN connection dropped; reconnecting')
    this.#scheduleReconnect()
  }

  #scheduleReconnect(): void {
    const delay = this.#backoffMs
    this.#backoffMs = Math.min(this.#backoffMs * 2, MAX_BACKOFF_MS)
    this.#retry = setTimeout(() => {
      void this.#connect()
        .then(() => this.#changed?.())
        .catch((err: unknown) => {
          this.#log.warn({ err }, 'storage: reconnecting the settings LISTEN connection failed')
          if (!this.#stopped) this.#scheduleReconnect()
        })
    }, delay)
    this.#retry.unref()
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#retry)
    const client = this.#client
    this.#client = undefined
    if (client) {
      client.removeAllListeners('end')
      await client.end()
    }
  }
}
