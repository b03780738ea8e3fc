/**
 * The OPC UA output: `opc.tcp://<host>:OPCUA_PORT/linesight`, an address space
 * `Objects/Lines/<line>/Stations/<station>/` (address-space.ts) that PLCs and SCADA read or
 * subscribe to, and a `Trigger(partId)` method per station.
 *
 * Users: the user name is a linesight token's id (`tok-...`), the password its secret; any valid
 * token may browse and read, `Trigger` needs a station token for that line or an admin token.
 * Anonymous sessions only with OPCUA_ALLOW_ANONYMOUS (then read only). The server's certificate
 * is made on first start by node-opcua's own PKI code (no download, no openssl call) and kept,
 * with the trusted and rejected client certificates, in `<LINESIGHT_DATA_DIR>/opcua-pki`.
 */
import { OPCUACertificateManager, OPCUAServer, MessageSecurityMode, SecurityPolicy, type ServerSession } from 'node-opcua'
import type { PartRecord } from '../../../shared/domain/part.ts'
import type { Principal } from '../../auth/principal.ts'
import type { PartTrigger } from '../../parts/contract.ts'
import type { OutputMetrics } from '../mqtt.ts'
import type { OutputSink, StationState } from '../types.ts'
import { LinesFolder } from './address-space.ts'

export interface OpcUaOptions {
  port: number
  pkiDir: string
  allowAnonymous: boolean
  authenticate(secret: string): Promise<Principal | null>
  trigger?: PartTrigger
  metrics: Pick<OutputMetrics, 'outputMessages'>
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }
}

export interface OpcUaOutput extends OutputSink {
  readonly endpoint: string
}

export async function startOpcUa(o: OpcUaOptions): Promise<OpcUaOutput> {
  const principals = new WeakMap<object, Principal>()
  const serverCertificateManager = new OPCUACertificateManager({ rootFolder: o.pkiDir, automaticallyAcceptUnknownCertificate: true })
  await serverCertificateManager.initialize()
  const server = new OPCUAServer({
    port: o.port,
    resourcePath: '/linesight',
    serverCertificateManager,
    allowAnonymous: o.allowAnonymous,
    // None stays for PLCs without certificates; user passwords are still encrypted with the server's key
    securityModes: [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt],
    securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
    buildInfo: { productName: 'linesight', manufacturerName: 'linesight' },
    userManager: {
      isValidUserAsync(this: ServerSession, userName: string, password: string, callback: (err: Error | null, ok?: boolean) => void) {
        o.authenticate(password).then(
          (p) => {
            // the user name must name the token, so a session's rights are exactly its token's
            const ok = !!p && p.role !== 'anonymous' && p.tokenId === userName
            if (ok) principals.set(this, p)
            callback(null, ok)
          },
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        )
      },
    },
  })
  await server.initialize()
  const addressSpace = server.engine.addressSpace
  if (!addressSpace) throw new Error('OPC UA: the address space did not initialise')
  const lines = new LinesFolder(addressSpace, {
    principalOf: (session) => (session ? principals.get(session) : undefined),
    ...(o.trigger ? { trigger: o.trigger } : {}),
  })
  await server.start()
  const endpoint = server.getEndpointUrl()

  return {
    name: 'opcua',
    endpoint,
    part(_part: PartRecord, state: StationState) {
      lines.update(state)
      o.metrics.outputMessages.inc({ output: 'opcua' })
    },
    station(state: StationState) {
      lines.update(state)
    },
    async close() {
      await server.shutdown(0)
      await serverCertificateManager.dispose()
    },
  }
}
