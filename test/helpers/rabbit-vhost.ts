/**
 * A vhost of its own for one test run (created and deleted with rabbitmqctl: the management HTTP
 * API is not enabled on every broker), so runs in parallel never see each other's queues.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Runs rabbitmqctl (on this host, against the local broker); its stderr in the error. */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('rabbitmqctl', ['--quiet', ...args], { timeout: 60_000 })
    return stdout
  } catch (err) {
    const e = err as { stderr?: string; message: string }
    throw new Error(`rabbitmqctl ${args.join(' ')} failed: ${e.stderr?.trim() || e.message}`, { cause: err })
  }
}

export interface TestVhost {
  name: string
  /** AMQP_URL with the vhost swapped for this one. */
  url: string
  /** Closes every client connection of this vhost, as a broker restart or network cut would. */
  cutConnections(): Promise<void>
  /** Takes the test user's rights on the vhost away: reconnects fail, as with a broker that is down. */
  denyAccess(): Promise<void>
  allowAccess(): Promise<void>
  drop(): Promise<void>
}

export async function createTestVhost(amqpUrl: string): Promise<TestVhost> {
  const name = `linesight-test-${randomBytes(4).toString('hex')}`
  const url = new URL(amqpUrl)
  const user = decodeURIComponent(url.username) || 'guest'
  const allowAccess = async () => {
    await rabbitmqctl('set_permissions', '-p', name, user, '.*', '.*', '.*')
  }
  await rabbitmqctl('add_vhost', name)
  await allowAccess()
  url.pathname = `/${encodeURIComponent(name)}`
  return {
    name,
    url: url.toString(),
    cutConnections: async () => {
      await rabbitmqctl('close_all_connections', '--vhost', name, 'linesight test: connection cut')
    },
    denyAccess: async () => {
      await rabbitmqctl('clear_permissions', '-p', name, user)
    },
    allowAccess,
    drop: async () => {
      await rabbitmqctl('delete_vhost', name)
    },
  }
}
