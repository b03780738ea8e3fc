/**
 * node-postgres behind the `Db` surface: a pool for statements, one pooled client per
 * transaction.
 */
import pg from 'pg'
import { StorageError, type Logger } from './errors.ts'
import { runAfterCommit, type Db, type Param, type Row, type Tx } from './sql.ts'

/** A schema name we may put into a connection option: a plain lower-case identifier. */
export const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/

const INT8_OID = 20

// Timestamps in ms and counts are BIGINT; node-postgres returns those as strings by default.
// Both fit a double exactly, so they come back as numbers (for this pool only, not globally).
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): ((v: string) => unknown) =>
    oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : (pg.types.getTypeParser(oid, format) as (v: string) => unknown)) as typeof pg.types.getTypeParser,
}

export interface PgDbOptions {
  connectionString: string
  /** Tables live in this schema (search_path); the server's default schema when unset. */
  schema?: string
  /** @default 10 */
  poolSize?: number
  log: Logger
}

/** Client settings shared by the pool and the LISTEN connection. */
export function pgClientConfig(opts: Pick<PgDbOptions, 'connectionString' | 'schema'>, applicationName = 'linesight'): pg.ClientConfig {
  // the name shows in pg_stat_activity, so an operator can tell our connections apart
  const config: pg.ClientConfig = { connectionString: opts.connectionString, types, application_name: applicationName }
  if (opts.schema !== undefined) {
    if (!SCHEMA_PATTERN.test(opts.schema)) throw new StorageError('invalid', `schema name "${opts.schema}" must match ${SCHEMA_PATTERN}`)
    config.options = `-c search_path=${opts.schema}`
  }
  return config
}

function values(params: readonly Param[]): unknown[] {
  // bytes go as Buffers, the type node-postgres recognises as bytea
  return params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p))
}

export class PgDb implements Db {
  readonly dialect = 'postgres' as const
  readonly pool: pg.Pool
  readonly #log: Logger
  #closed = false

  constructor(opts: PgDbOptions) {
    this.#log = opts.log
    this.pool = new pg.Pool({ ...pgClientConfig(opts), max: opts.poolSize ?? 10 })
    // an idle client losing its connection must not crash the process; the pool replaces it
    this.pool.on('error', (err) => this.#log.warn({ err }, 'storage: an idle PostgreSQL connection failed'))
  }

  #check() {
    if (this.#closed) throw new StorageError('closed', 'the PostgreSQL store is closed')
  }

  async all<T = Row>(text: string, params: readonly Param[] = []): Promise<T[]> {
    this.#check()
    return (await this.pool.query(text, values(params))).rows as T[]
  }

  async one<T = Row>(text: string, params: readonly Param[] = []): Promise<T | undefined> {
    return (await this.all<T>(text, params))[0]
  }

  async run(text: string, params: readonly Param[] = []): Promise<number> {
    this.#check()
    return (await this.pool.query(text, values(params))).rowCount ?? 0
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.#check()
    const client = await this.pool.connect()
    let broken: unknown
    // A checked-out client has no listener of the pool's: one whose connection the server cuts
    // between two statements (a database restart: 57P01 "terminating connection due to
    // administrator command") emits 'error' with nobody listening, which ends the process.
    const onError = (err: Error) => {
      broken = err
      this.#log.warn({ err }, 'storage: a PostgreSQL connection failed inside a transaction')
    }
    client.on('error', onError)
    const after: (() => void)[] = []
    let open = true
    const guard = () => {
      if (!open) throw new StorageError('closed', 'this transaction already ended')
    }
    const tx: Tx = {
      dialect: 'postgres',
      all: async <R = Row>(text: string, params: readonly Param[] = []) => (guard(), (await client.query(text, values(params))).rows as R[]),
      one: async <R = Row>(text: string, params: readonly Param[] = []) => (guard(), (await client.query(text, values(params))).rows[0] as R | undefined),
      run: async (text: string, params: readonly Param[] = []) => (guard(), (await client.query(text, values(params))).rowCount ?? 0),
      lock: async (name: string) => {
        guard()
        // scoped to the schema so test runs (and tenants) in other schemas do not wait on us
        await client.query(`SELECT pg_advisory_xact_lock(hashtext('linesight'), hashtext(current_schema() || ':' || $1))`, [name])
      },
      afterCommit: (cb) => void after.push(cb),
    }
    try {
      await client.query('BEGIN')
      const result = await fn(tx)
      await client.query('COMMIT')
      open = false
      runAfterCommit(after, (err) => this.#log.error({ err }, 'storage: an after-commit callback failed'))
      return result
    } catch (err) {
      open = false
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        // a connection that cannot roll back must not go back into the pool
        broken = rollbackErr
        this.#log.warn({ err: rollbackErr }, 'storage: ROLLBACK failed; discarding the connection')
      })
      throw err
    } finally {
      client.removeListener('error', onError)
      client.release(broken instanceof Error ? broken : undefined)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.pool.end()
  }
}
