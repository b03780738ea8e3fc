/**
 * A PostgreSQL server of the test's own (initdb in a temporary folder, on a free port), for tests
 * that stop and start the database: the machine's shared server is never touched. Runs the
 * binaries as the `postgres` user when the test runs as root (initdb refuses root).
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chown, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from './browser.ts'

const run = promisify(execFile)
export const PG_BIN = '/usr/lib/postgresql/15/bin'

/** Why this machine cannot run an own PostgreSQL, or undefined when it can. */
export function ownPostgresMissing(): string | undefined {
  for (const b of ['initdb', 'pg_ctl']) if (!existsSync(join(PG_BIN, b))) return `${join(PG_BIN, b)} is missing`
  return undefined
}

export interface OwnPostgres {
  url: string
  port: number
  start(): Promise<void>
  /** `pg_ctl stop -m fast`: open connections are cut, as a maintenance restart does. */
  stop(): Promise<void>
  /** Stops the server and removes its folder. */
  destroy(): Promise<void>
}

export async function createOwnPostgres(): Promise<OwnPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'linesight-pg-'))
  const asRoot = userInfo().uid === 0
  let pgUid: number | undefined
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    pgUid = Number(stdout.trim())
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim())
    await chown(dir, pgUid, gid)
  }
  const bin = (name: string, args: string[]) => (asRoot ? run('runuser', ['-u', 'postgres', '--', join(PG_BIN, name), ...args]) : run(join(PG_BIN, name), args))
  const data = join(dir, 'data')
  const port = await freePort()
  await bin('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  const ctl = (...args: string[]) => bin('pg_ctl', ['-D', data, '-l', join(dir, 'log'), ...args])
  let running = false
  const pg: OwnPostgres = {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async start() {
      await ctl('-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-w', '-t', '120', 'start')
      running = true
    },
    async stop() {
      await ctl('-m', 'fast', '-w', '-t', '120', 'stop')
      running = false
    },
    async destroy() {
      if (running) await pg.stop().catch(() => undefined)
      await rm(dir, { recursive: true, force: true })
    },
  }
  return pg
}
