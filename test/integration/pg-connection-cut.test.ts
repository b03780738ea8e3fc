/**
 * A PostgreSQL restart that cuts a connection checked out for a transaction, between two of its
 * statements (issue 19). node-postgres then emits 'error' on that client, and a client checked
 * out of the pool has no listener of the pool's: before server/storage/pg-db.ts listened, the
 * event was unhandled and ended the whole process (the gateway or worker "stopped answering"
 * while the database was down). Now the transaction fails, the connection is dropped, and the
 * pool serves again once the server is back. Runs on a server of the test's own (initdb).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PgDb } from '../../server/storage/pg-db.ts'
import { createOwnPostgres, ownPostgresMissing, type OwnPostgres } from '../helpers/own-postgres.ts'
import { gate } from '../helpers/gate.ts'
import { waitFor } from '../helpers/wait.ts'

const missing = ownPostgresMissing()
if (missing) console.warn(`[pg-connection-cut] ${missing}: skipped`)

describe.skipIf(missing)('a PostgreSQL restart during a transaction', () => {
  let pg: OwnPostgres
  beforeAll(async () => {
    pg = await createOwnPostgres()
    await pg.start()
  }, 180_000)
  afterAll(async () => {
    await pg?.destroy()
  })

  it('fails that transaction instead of the process, and the pool serves again after', { timeout: 180_000 }, async () => {
    const warnings: string[] = []
    const log = { warn: (_o: object, msg: string) => void warnings.push(msg), error: (_o: object, msg: string) => void warnings.push(msg) }
    const db = new PgDb({ connectionString: pg.url, log })
    const uncaught: unknown[] = []
    const onUncaught = (err: unknown) => void uncaught.push(err)
    // vitest would report it too; collected here so the assertion names it
    process.on('uncaughtException', onUncaught)
    try {
      const held = gate()
      let inside = false
      const tx = db.transaction(async (t) => {
        await t.run('CREATE TABLE IF NOT EXISTS cut (n int)')
        inside = true
        await held.promise // the client is idle between two statements, as a transaction awaiting a file write is
        await t.run('INSERT INTO cut VALUES (1)')
      })
      const outcome = tx.then(
        () => 'committed',
        (err: unknown) => `failed: ${(err as Error).message}`,
      )
      await waitFor(() => inside, { what: 'the transaction to be inside' })
      await pg.stop()
      await waitFor(() => uncaught.length > 0 || warnings.includes('storage: a PostgreSQL connection failed inside a transaction'), { timeoutMs: 30_000, what: 'the cut connection to be noticed' })
      expect(uncaught).toEqual([])
      held.open()
      expect(await outcome).toMatch(/^failed: /)

      await pg.start()
      expect(await waitFor(() => db.one<{ n: number }>('SELECT 1 AS n'), { timeoutMs: 60_000, retryErrors: true, what: 'the pool to answer again' })).toEqual({ n: 1 })
    } finally {
      process.off('uncaughtException', onUncaught)
      await db.close()
    }
  })
})
