/**
 * The OPC UA output with a real node-opcua client against linesight's server (started in this
 * process, so parts can come from an in-process emitter; part tracking is its own issue):
 * browse the address space, read values after parts pass, call Trigger, and no way in without
 * a token.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AttributeIds, MessageSecurityMode, OPCUACertificateManager, OPCUAClient, SecurityPolicy, StatusCodes, UserTokenType, DataType, type ClientSession, type UserIdentityInfo } from 'node-opcua'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLinesight, type Linesight } from '../../server/app.ts'
import { loadConfig } from '../../server/config/index.ts'
import { createLogger } from '../../server/log.ts'
import { freePort } from '../helpers/browser.ts'
import { closedPart, PartEmitter, RecordingTrigger } from '../helpers/parts.ts'
import { ROOT } from '../helpers/server.ts'

const adminToken = `ls_test_${randomBytes(16).toString('hex')}`
let app: Linesight
let dir: string
let endpoint: string
let httpUrl: string
const parts = new PartEmitter()
const trigger = new RecordingTrigger()
let clientPki: OPCUACertificateManager
const station: { L1?: UserIdentityInfo; L2?: UserIdentityInfo } = {}

async function token(role: 'station' | 'kiosk', lines: string[]): Promise<UserIdentityInfo> {
  const res = await fetch(`${httpUrl}/api/v1/admin/tokens`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ role, lines, label: `opcua ${role}` }) })
  const { secret, token: t } = (await res.json()) as { secret: string; token: { id: string } }
  return { type: UserTokenType.UserName, userName: t.id, password: secret }
}

async function withSession<T>(user: UserIdentityInfo | undefined, fn: (s: ClientSession) => Promise<T>): Promise<T> {
  const client = OPCUAClient.create({ endpointMustExist: false, securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None, clientCertificateManager: clientPki, connectionStrategy: { maxRetry: 1, initialDelay: 100 } })
  await client.connect(endpoint)
  try {
    const session = await client.createSession(user ?? { type: UserTokenType.Anonymous })
    try {
      return await fn(session)
    } finally {
      await session.close()
    }
  } finally {
    await client.disconnect()
  }
}

const node = (path: string) => `ns=1;s=Lines/${path}`

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linesight-opcua-'))
  const port = await freePort()
  const config = loadConfig({
    LINESIGHT_ROLE: 'gateway',
    HOST: '127.0.0.1',
    PORT: '0',
    HTTPS_ENABLED: 'false',
    SERVE_CLIENT: 'false',
    SHUTDOWN_DRAIN_MS: '0',
    LINESIGHT_DATA_DIR: dir,
    LINESIGHT_MODELS_DIR: join(ROOT, 'models'),
    LINESIGHT_ADMIN_TOKEN: adminToken,
    AUTH_REQUIRED: 'true',
    OPCUA_PORT: String(port),
  })
  app = await startLinesight(config, createLogger('silent'), { root: ROOT, parts: { events: parts, trigger } })
  endpoint = app.core.outputs!.opcua!.endpoint.replace(/\/\/[^:/]+:/, '//127.0.0.1:')
  httpUrl = `http://127.0.0.1:${app.gateway!.port}`
  clientPki = new OPCUACertificateManager({ rootFolder: join(dir, 'client-pki'), automaticallyAcceptUnknownCertificate: true })
  await clientPki.initialize()
  station.L1 = await token('station', ['L1'])
  station.L2 = await token('station', ['L2'])
}, 180_000)

afterAll(async () => {
  await app?.close()
  await clientPki?.dispose()
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe('OPC UA output', () => {
  it('keeps its certificates in the data folder', () => {
    expect(app.core.outputs?.opcua?.endpoint).toMatch(/^opc\.tcp:\/\/.+\/linesight$/)
    expect(existsSync(join(dir, 'opcua-pki', 'own', 'certs', 'certificate.pem'))).toBe(true)
    expect(existsSync(join(dir, 'opcua-pki', 'own', 'private', 'private_key.pem'))).toBe(true)
  })

  it('shows Lines/<line>/Stations/<station> and the values after parts are inspected', async () => {
    const fail = closedPart({ verdict: 'fail', station: 'S1' })
    parts.close(closedPart({ verdict: 'pass', station: 'S1' }))
    parts.close(closedPart({ verdict: 'pass', station: 'S1' }))
    parts.close(fail)
    await withSession(station.L1, async (s) => {
      const browsed = await s.browse(node('L1/Stations'))
      expect(browsed.references?.map((r) => r.browseName.name)).toEqual(['S1'])
      const children = await s.browse(node('L1/Stations/S1'))
      expect(children.references?.map((r) => r.browseName.name).sort()).toEqual(['LastPartId', 'LastVerdict', 'Mode', 'Online', 'PartsFailed', 'PartsInspected', 'Trigger', 'Yield'])
      const names = ['LastVerdict', 'LastPartId', 'PartsInspected', 'PartsFailed', 'Yield', 'Online']
      const values = await s.read(names.map((n) => ({ nodeId: node(`L1/Stations/S1/${n}`), attributeId: AttributeIds.Value })))
      expect(values.map((v) => v.statusCode.value)).toEqual(names.map(() => StatusCodes.Good.value))
      expect(Object.fromEntries(names.map((n, i) => [n, values[i]!.value.value as unknown]))).toEqual({
        LastVerdict: 'fail',
        LastPartId: fail.partId,
        PartsInspected: 3,
        PartsFailed: 1,
        Yield: 2 / 3,
        Online: false,
      })
    })
  }, 120_000)

  it('starts a part through Trigger for a station token of that line, and refuses another line\'s', async () => {
    parts.close(closedPart({ line: 'L1', station: 'S9' }))
    const call = (user: UserIdentityInfo | undefined, partId: string) =>
      withSession(user, (s) =>
        s.call({ objectId: node('L1/Stations/S9'), methodId: node('L1/Stations/S9/Trigger'), inputArguments: [{ dataType: DataType.String, value: partId }] }),
      )
    const ok = await call(station.L1, 'SN-77#1')
    expect(ok.statusCode.name).toBe('Good')
    expect(ok.outputArguments?.[0]?.value).toBe('SN-77#1')
    expect(trigger.calls).toEqual([{ line: 'L1', station: 'S9', partId: 'SN-77#1', via: 'opcua' }])
    const refused = await call(station.L2, 'SN-78')
    expect(refused.statusCode.name).toBe('BadUserAccessDenied')
    const bad = await call(station.L1, 'has space')
    expect(bad.statusCode.name).toBe('BadInvalidArgument')
    expect(trigger.calls).toHaveLength(1)
  }, 120_000)

  it('refuses sessions without a token, with a wrong password, or with a user name that is not the token\'s id', async () => {
    await expect(withSession(undefined, async () => 'in')).rejects.toThrow()
    await expect(withSession({ type: UserTokenType.UserName, userName: (station.L1 as { userName: string }).userName, password: 'ls_wrong' }, async () => 'in')).rejects.toThrow()
    await expect(withSession({ type: UserTokenType.UserName, userName: 'operator', password: (station.L1 as { password: string }).password }, async () => 'in')).rejects.toThrow()
    expect(await withSession(station.L1, async () => 'in')).toBe('in')
  }, 120_000)
})
