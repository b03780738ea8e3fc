/**
 * The store contract on a real PostgreSQL, one schema per test database, all named after this
 * run and dropped afterwards. Needs DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test).
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import type { Logger } from '../../server/storage/errors.ts'
import { PgDb } from '../../server/storage/pg-db.ts'
import { openStore } from '../../server/storage/index.ts'
import { LISTENER_NAME } from '../../server/storage/pg-notify.ts'
import { openPostgresStore } from '../../server/storage/postgres.ts'
import type { SettingsDoc } from '../../server/storage/settings-store.ts'
import { useDatabase } from '../contracts/store/fixtures.ts'
import { storeContract, type TestDatabaseFactory } from '../contracts/store.ts'
import { waitFor } from '../helpers/wait.ts'

const url = process.env.DATABASE_URL
if (!url) console.warn('store-postgres: DATABASE_URL is not set; skipping the PostgreSQL store suite')

const run = `ls_test_${randomBytes(4).toString('hex')}`
let schemas = 0
// the contract provokes warnings on purpose (an undecodable image, a throwing listener)
const logged: string[] = []
const log: Logger = { warn: (_o, msg) => void logged.push(msg), error: (_o, msg) => void logged.push(msg) }

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

const postgres: TestDatabaseFactory = async () => {
  const schema = `${run}_${++schemas}`
  // the name is ours (a fixed prefix, hex and a counter), never input; quoted all the same
  await admin((c) => c.query(`CREATE SCHEMA "${schema}"`))
  return {
    open: async (opts = {}) => openPostgresStore({ log, ...opts, connectionString: url!, schema, poolSize: 4 }),
    db: async () => new PgDb({ connectionString: url!, schema, log, poolSize: 2 }),
    drop: async () => void (await admin((c) => c.query(`DROP SCHEMA "${schema}" CASCADE`))),
  }
}

describe.skipIf(!url)('postgres store', () => {
  afterAll(async () => {
    // a test that failed before its own cleanup must not leave schemas behind
    const left = await admin((c) => c.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`${run}\\_%`]))
    for (const { nspname } of left.rows) await admin((c) => c.query(`DROP SCHEMA "${nspname}" CASCADE`))
  })

  storeContract('postgres', postgres)

  describe('postgres specifics', () => {
    const h = useDatabase(postgres)

    it('keeps hearing about settings changes after its LISTEN connection was cut', async () => {
      const other = await h.another()
      const seen: SettingsDoc[] = []
      await h.store.settings.onChange((d) => seen.push(d))
      const cut = await admin((c) => c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [LISTENER_NAME]))
      expect(cut.rowCount).toBeGreaterThan(0)
      // made while the listener is (most likely) still reconnecting: only the resync can catch it
      const missed = await other.settings.put('global', { during: 'outage' }, 'bob')
      await waitFor(() => seen.some((d) => d.revision === missed.revision), { what: 'the change made during the outage' })
      const after = await other.settings.put('scaling', { after: true }, 'bob')
      await waitFor(() => seen.some((d) => d.revision === after.revision), { what: 'the change after the outage' })
      expect(seen.filter((d) => d.revision === missed.revision)).toHaveLength(1)
    })

    it('keeps images in the database, not on disk', async () => {
      const raw = await h.raw()
      const r = { frameId: 'pg-img-1', line: 'line-a', station: 'st-1', capturedAt: Date.now(), model: { name: 'd', version: '1' }, inferredAt: 'server' as const, ep: 'cpu', detections: [], verdict: 'fail' as const, timings: {} }
      await h.store.record(r, { mime: 'image/png', original: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]) })
      expect(await raw.all('SELECT variant, mime FROM images WHERE frame_id = $1', [r.frameId])).toEqual([{ variant: 'original', mime: 'image/png' }])
      await h.store.deleteBefore(r.capturedAt + 1)
      expect(await raw.all('SELECT variant FROM images')).toEqual([])
    })
  })

  it('opens PostgreSQL from the configuration, in the schema the URL names', async () => {
    const schema = `${run}_${++schemas}`
    await admin((c) => c.query(`CREATE SCHEMA "${schema}"`))
    const u = new URL(url!)
    u.searchParams.set('options', `-c search_path=${schema}`)
    const store = await openStore({ databaseUrl: u.toString(), dataDir: '/nonexistent', storeImages: 'fail', storeOriginals: true }, log)
    try {
      expect(store.kind).toBe('postgres')
      expect(store.lastMigration?.applied.length).toBeGreaterThan(0)
      const tables = await admin((c) => c.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [schema]))
      expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toContain('results')
    } finally {
      await store.close()
      await admin((c) => c.query(`DROP SCHEMA "${schema}" CASCADE`))
    }
  })

  it('refuses a schema name that is not a plain identifier', () => {
    expect(() => openPostgresStore({ connectionString: url!, schema: 'x; DROP TABLE results' })).toThrow(/schema name/)
  })

  it('leaves no schema of this run behind', async () => {
    // runs last in this file: every test database before it was dropped by its own test
    const left = await admin((c) => c.query('SELECT nspname FROM pg_namespace WHERE nspname LIKE $1', [`${run}\\_%`]))
    expect(left.rows).toEqual([])
  })
})
