/**
 * Versioned migrations: once each, safe to run twice and from several stores at once, and
 * refusing a database this build does not understand.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { migrate } from '../../../server/storage/migrate.ts'
import { MIGRATIONS, type Migration } from '../../../server/storage/schema.ts'
import type { SqlStore } from '../../../server/storage/store.ts'
import { result, type TestDatabase, type TestDatabaseFactory } from './fixtures.ts'

const ALL = MIGRATIONS.map((m) => m.version)

export function migrationsContract(factory: TestDatabaseFactory): void {
  describe('migrations', () => {
    let database: TestDatabase
    const opened: { close(): Promise<void> }[] = []
    const open = async () => {
      const s = await database.open()
      opened.push(s)
      return s
    }
    const applied = async () => {
      const db = await database.db()
      opened.push(db)
      return (await db.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version')).map((r) => Number(r.version))
    }
    beforeEach(async () => {
      database = await factory()
    })
    afterEach(async () => {
      for (const s of opened.splice(0).reverse()) await s.close()
      await database.drop()
    })

    it('applies every migration on an empty database, and nothing when run again', async () => {
      const store = await open()
      await store.migrate()
      expect(store.lastMigration).toEqual({ applied: ALL, version: Math.max(...ALL) })
      await store.migrate()
      expect(store.lastMigration?.applied).toEqual([])
      expect(await applied()).toEqual(ALL)
      expect(await store.record(result())).toBe(true)
    })

    it('applies each migration once when several stores migrate at once', async () => {
      const stores: SqlStore[] = await Promise.all([open(), open(), open()])
      await Promise.all(stores.map((s) => s.migrate()))
      const all = stores.flatMap((s) => s.lastMigration?.applied ?? [])
      expect(all.sort((a, b) => a - b)).toEqual(ALL)
      expect(await applied()).toEqual(ALL)
    })

    it('applies only the migrations a database lacks', async () => {
      const db = await database.db()
      opened.push(db)
      expect((await migrate(db, MIGRATIONS.slice(0, 2))).applied).toEqual([1, 2])
      const store = await open()
      await store.migrate()
      expect(store.lastMigration?.applied).toEqual(ALL.slice(2))
    })

    it('refuses a database migrated by a newer build', async () => {
      const db = await database.db()
      opened.push(db)
      const future: Migration = { version: 999, name: 'from the future', statements: () => ['CREATE TABLE future_things (id INTEGER)'] }
      await migrate(db, [...MIGRATIONS, future])
      const store = await open()
      await expect(store.migrate()).rejects.toMatchObject({ code: 'schema_too_new' })
    })

    it('refuses a database whose applied migration was edited since', async () => {
      const db = await database.db()
      opened.push(db)
      const edited = MIGRATIONS.map((m) => (m.version === 1 ? { ...m, statements: (d: Parameters<Migration['statements']>[0]) => [...m.statements(d), 'CREATE TABLE extra_thing (id INTEGER)'] } : m))
      await migrate(db, edited)
      const store = await open()
      await expect(store.migrate()).rejects.toMatchObject({ code: 'migration_changed' })
    })

    it('rolls back a migration that fails, leaving the database as it was', async () => {
      const db = await database.db()
      opened.push(db)
      const broken: Migration = { version: 999, name: 'broken', statements: () => ['CREATE TABLE half_done (id INTEGER)', 'THIS IS NOT SQL'] }
      await expect(migrate(db, [...MIGRATIONS, broken])).rejects.toThrow()
      // nothing of the run stayed: not the half-done table, not the migrations before it
      await expect(db.all('SELECT id FROM half_done')).rejects.toThrow(/half_done/)
      const store = await open()
      await store.migrate()
      expect(store.lastMigration?.applied).toEqual(ALL)
    })
  })
}
