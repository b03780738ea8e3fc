/**
 * The machine's shared PostgreSQL for tests: one-off admin statements and a schema of a test's own
 * (a fixed prefix and random hex, never input), so runs side by side never see each other's rows.
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** Runs `fn` on a connection of its own to `url`, closed afterwards. */
export async function withPg<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

/** One statement on a connection of its own. */
export async function pgAdmin(url: string, sql: string): Promise<void> {
  await withPg(url, (c) => c.query(sql))
}

export interface PgSchema {
  name: string
  /** `url` with the schema as its search_path (what DATABASE_URL gets). */
  url: string
  drop: () => Promise<void>
}

/** A new schema `<prefix>_<hex>` on `url`. */
export async function pgSchema(url: string, prefix: string): Promise<PgSchema> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`
  await pgAdmin(url, `CREATE SCHEMA "${name}"`)
  const scoped = new URL(url)
  scoped.searchParams.set('options', `-c search_path=${name}`)
  return { name, url: scoped.toString(), drop: () => pgAdmin(url, `DROP SCHEMA IF EXISTS "${name}" CASCADE`) }
}
