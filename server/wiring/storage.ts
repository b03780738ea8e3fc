/**
 * Opens the database (SQLite or PostgreSQL), makes sure an admin token exists, and adapts the
 * stores to what the gateway needs (token verification, persisted line settings).
 */
import { resolve } from 'node:path'
import { LineSettingsSchema, type LineSettings } from '../../shared/domain/line-settings.ts'
import type { TokenVerifier } from '../auth/authenticate.ts'
import type { Config } from '../config/index.ts'
import type { Logger } from '../log.ts'
import type { SettingsPersistence } from '../lines/line-settings.ts'
import { openStore, startRetention } from '../storage/index.ts'
import type { Store } from '../storage/types.ts'

export interface Storage {
  store: Store
  tokens: TokenVerifier
  settingsPersistence: SettingsPersistence
  /** The admin token made on this first start, when none existed; never stored in clear. */
  firstAdminSecret?: string
  close(): Promise<void>
}

const LINE_KEY = 'line:'

export async function openStorage(config: Config, log: Logger): Promise<Storage> {
  const store = await openStore({ ...config, dataDir: resolve(config.dataDir) }, log)
  log.info({ store: store.kind }, 'results store ready')

  let firstAdminSecret: string | undefined
  // a worker never makes the first admin token (a gateway prints it), but knows a given one, for /metrics
  if (config.role !== 'worker' || config.adminToken !== undefined) {
    const admin = await store.tokens.ensureAdminToken(config.adminToken)
    if (admin.revoked) {
      log.warn({ token: admin.id }, 'LINESIGHT_ADMIN_TOKEN names a revoked token: it grants nothing; set it to a current admin token or unset it')
    }
    // printed once by server/main.ts as a sign-in link: it is stored hashed and cannot be shown again
    if (admin.secret) firstAdminSecret = admin.secret
  }
  const stopRetention = startRetention(store, config.retentionDays, { log })

  const settingsPersistence: SettingsPersistence = {
    async load() {
      const docs = await store.settings.list(LINE_KEY)
      const out: LineSettings[] = []
      for (const d of docs) {
        const parsed = LineSettingsSchema.safeParse(d.value)
        if (parsed.success) out.push(parsed.data)
        else log.warn({ key: d.key }, 'stored line settings no longer valid; using defaults for that line')
      }
      return out
    },
    async save(settings, actor) {
      await store.settings.put(`${LINE_KEY}${settings.line}`, settings, actor)
    },
  }

  return {
    store,
    tokens: { verify: (secret) => store.tokens.verify(secret) },
    settingsPersistence,
    ...(firstAdminSecret ? { firstAdminSecret } : {}),
    async close() {
      stopRetention()
      await store.close()
    },
  }
}
