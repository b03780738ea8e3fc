/**
 * Applies pending migrations in one transaction, holding the migration lock, so several
 * processes starting together apply each migration exactly once and the losers see the result.
 */
import { createHash } from 'node:crypto'
import { StorageError } from './errors.ts'
import { MIGRATIONS, type Migration } from './schema.ts'
import type { Db } from './sql.ts'

export interface MigrationReport {
  /** Versions this call applied (empty when the schema was current). */
  applied: number[]
  version: number
}

function checksum(m: Migration, dialect: Db['dialect']): string {
  return createHash('sha256').update(m.statements(dialect).join(';\n')).digest('hex').slice(0, 16)
}

export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationReport> {
  return db.transaction(async (tx) => {
    // before the CREATE: two PostgreSQL sessions creating the same table at once collide
    await tx.lock('migrate')
    await tx.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      checksum TEXT NOT NULL,
      applied_at BIGINT NOT NULL
    )`)
    const rows = await tx.all<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations ORDER BY version')
    const known = new Map(migrations.map((m) => [m.version, m]))
    for (const row of rows) {
      const m = known.get(Number(row.version))
      if (!m) {
        throw new StorageError('schema_too_new', `the database has migration ${row.version} ("${row.name}") that this build does not know; it was migrated by a newer linesight`)
      }
      if (checksum(m, tx.dialect) !== row.checksum) {
        throw new StorageError('migration_changed', `migration ${m.version} ("${m.name}") differs from the one applied to this database`)
      }
    }
    const done = new Set(rows.map((r) => Number(r.version)))
    const applied: number[] = []
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue
      for (const statement of m.statements(tx.dialect)) await tx.run(statement)
      await tx.run('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)', [m.version, m.name, checksum(m, tx.dialect), Date.now()])
      applied.push(m.version)
    }
    const version = Math.max(0, ...migrations.map((m) => m.version))
    return { applied, version }
  })
}
