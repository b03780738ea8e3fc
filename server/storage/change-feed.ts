/**
 * How a settings change made by another process reaches this one. PostgreSQL pushes it
 * (LISTEN/NOTIFY, pg-notify.ts). SQLite cannot push across processes, so the SQLite feed polls
 * `PRAGMA data_version`, which changes only when another connection committed: one cheap
 * statement per interval, and the settings are re-read only when something changed.
 */
import type { Logger } from './errors.ts'
import type { Db, Tx } from './sql.ts'

/** `key`: that document changed. No key: changes may have been missed; compare everything. */
export type ChangeCallback = (key?: string) => void

export interface ChangeFeed {
  /** Called inside the transaction that changed `key`; other processes hear of it once it commits. */
  announce(tx: Tx, key: string): Promise<void>
  /** Resolves once changes are being watched. */
  start(changed: ChangeCallback): Promise<void>
  stop(): Promise<void>
}

export class PollingFeed implements ChangeFeed {
  #timer: NodeJS.Timeout | undefined
  #version: number | undefined
  #busy = false

  constructor(
    readonly db: Db,
    readonly log: Logger,
    readonly intervalMs = 1000,
  ) {}

  async announce(): Promise<void> {
    // the commit itself is the announcement: it moves every other connection's data_version
  }

  async #dataVersion(): Promise<number> {
    const row = await this.db.one<{ data_version: number }>('PRAGMA data_version')
    return Number(row?.data_version)
  }

  async start(changed: ChangeCallback): Promise<void> {
    if (this.#timer) return
    this.#version = await this.#dataVersion()
    this.#timer = setInterval(() => {
      if (this.#busy) return
      this.#busy = true
      void this.#dataVersion()
        .then((v) => {
          if (v !== this.#version) {
            this.#version = v
            changed()
          }
        })
        .catch((err: unknown) => this.log.warn({ err }, 'storage: polling for settings changes failed'))
        .finally(() => (this.#busy = false))
    }, this.intervalMs)
    // watching settings must never keep the process alive
    this.#timer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}
