/**
 * Device pairing. An administrator adds a station or a kiosk and gets a short pairing code (and a
 * URL for a QR code); the tablet trades the code for its token at `POST /api/v1/pair`, which sets
 * it as an HttpOnly cookie, so the page never holds it and it survives browser restarts.
 * Revoking a device closes its open sockets at once with the reason its screen shows.
 *
 * Limits: bodies up to 16 KiB; a kiosk has 1-100 lines; names 1-100 characters; pairing codes are
 * single use and expire after 10 minutes; failed pairings count toward the address's
 * AUTH_FAILURES_PER_MINUTE.
 */
import { z } from 'zod'
import { Id, isId } from '../../shared/domain/ids.ts'
import { DEVICE_COOKIE } from '../auth/authenticate.ts'
import { REVOKED_REASON } from '../auth/headers.ts'
import { describePrincipal } from '../auth/principal.ts'
import type { Core } from '../core.ts'
import { HttpError, badRequest, notFound } from '../errors.ts'
import type { DeviceInfo } from '../storage/devices.ts'
import { StorageError } from '../storage/errors.ts'
import { parseBody } from './body.ts'
import { json, ok, type RequestContext, type Route } from './types.ts'

const Name = z.string().min(1).max(100)
const NewDeviceBody = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('station'), line: Id, station: Id, name: Name.optional() }),
  z.strictObject({ kind: z.literal('kiosk'), lines: z.array(Id).min(1).max(100), name: Name.optional() }),
])
const PairBody = z.strictObject({ code: z.string().min(1).max(32) })
const RenameBody = z.strictObject({ name: Name })

/** Ten years: a paired tablet stays paired until an administrator revokes it. */
const COOKIE_MAX_AGE_S = 10 * 365 * 24 * 3600

/** Where a paired device lands: its station page or its kiosk. */
export function deviceLink(d: Pick<DeviceInfo, 'kind' | 'lines' | 'station'>): string {
  return d.kind === 'station' ? `/station?${new URLSearchParams({ line: d.lines[0]!, station: d.station ?? '' })}` : `/kiosk?${new URLSearchParams({ lines: d.lines.join(',') })}`
}

/** What a device list shows; the token id stays on the server. */
function view(d: DeviceInfo) {
  const { tokenId: _tokenId, ...rest } = d
  return { ...rest, link: deviceLink(d) }
}

/** `/pair` on the host the administrator used; the code in the fragment stays out of server logs. */
function pairingUrl(ctx: RequestContext, code: string): string {
  const host = ctx.headers.host ?? 'localhost'
  return `${ctx.secure ? 'https' : 'http'}://${host}/pair#code=${code}`
}

function storageError(err: unknown, code: string): never {
  if (err instanceof StorageError && err.code === 'invalid') throw badRequest(err.message, code)
  throw err
}

export function deviceRoutes(core: Core): Route[] {
  const devices = () => core.store.devices
  const idParam = (ctx: RequestContext) => {
    const id = ctx.params.id ?? ''
    if (!isId(id)) throw badRequest('device id must be an id', 'bad_device_id')
    return id
  }
  return [
    {
      method: 'post',
      pattern: '/api/v1/admin/devices',
      access: 'admin',
      bodyLimit: 16 * 1024,
      handler: async (ctx) => {
        const b = parseBody(NewDeviceBody, ctx.body, 'invalid_device')
        const input = b.kind === 'station' ? { kind: b.kind, lines: [b.line], station: b.station } : { kind: b.kind, lines: b.lines }
        const { device, code } = await devices()
          .create({ ...input, ...(b.name ? { name: b.name } : {}) }, describePrincipal(ctx.principal))
          .catch((err: unknown) => storageError(err, 'invalid_device'))
        core.log.info({ device: device.id, kind: device.kind, lines: device.lines, station: device.station, by: describePrincipal(ctx.principal) }, 'device added; waiting to be paired')
        const pairingCode = `${code.slice(0, 4)}-${code.slice(4)}`
        return json(
          201,
          { id: device.id, kind: device.kind, pairingCode, pairingUrl: pairingUrl(ctx, pairingCode), expiresAt: device.expiresAt, device: view(device) },
          { 'cache-control': 'no-store' },
        )
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/admin/devices',
      access: 'admin',
      handler: async () => ok({ devices: (await devices().list()).map(view) }),
    },
    {
      method: 'patch',
      pattern: '/api/v1/admin/devices/:id',
      access: 'admin',
      bodyLimit: 16 * 1024,
      handler: async (ctx) => {
        const id = idParam(ctx)
        const { name } = parseBody(RenameBody, ctx.body, 'invalid_device')
        const device = await devices()
          .rename(id, name, describePrincipal(ctx.principal))
          .catch((err: unknown) => storageError(err, 'invalid_device'))
        if (!device) throw notFound(`no device ${id}`)
        return ok(view(device))
      },
    },
    {
      method: 'del',
      pattern: '/api/v1/admin/devices/:id',
      access: 'admin',
      handler: async (ctx) => {
        const id = idParam(ctx)
        const device = await devices().revoke(id, describePrincipal(ctx.principal))
        if (!device) throw notFound(`no device ${id} that is not revoked already`)
        const closed = device.tokenId ? (core.closeSockets?.(device.tokenId, REVOKED_REASON) ?? 0) : 0
        core.log.info({ device: id, by: describePrincipal(ctx.principal), socketsClosed: closed }, 'device revoked')
        return { status: 204 }
      },
    },
    {
      method: 'post',
      pattern: '/api/v1/pair',
      // the one way in without a token: rate limited with every other failed sign-in
      access: 'public',
      bodyLimit: 4 * 1024,
      handler: async (ctx) => {
        core.auth?.checkLimit(ctx.remoteAddress)
        const { code } = parseBody(PairBody, ctx.body, 'invalid_pairing')
        const paired = await devices().pair(code, { address: ctx.remoteAddress, userAgent: ctx.headers['user-agent'] ?? '' })
        if (!paired) {
          core.auth?.failed(ctx.remoteAddress, 'bad_pairing_code')
          throw new HttpError(401, 'bad_pairing_code', 'this pairing code is unknown, used or expired; ask an administrator for a new one')
        }
        const { secret, device } = paired
        core.log.info({ device: device.id, kind: device.kind, address: ctx.remoteAddress }, 'device paired')
        const cookie = [`${DEVICE_COOKIE}=${secret}`, 'Path=/', `Max-Age=${COOKIE_MAX_AGE_S}`, 'HttpOnly', 'SameSite=Strict', ...(ctx.secure ? ['Secure'] : [])].join('; ')
        return json(200, { token: secret, device: view(device) }, { 'set-cookie': cookie, 'cache-control': 'no-store' })
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/me',
      access: 'read',
      handler: (ctx) => {
        const p = ctx.principal
        return ok({ role: p.role, lines: p.lines, ...(p.station ? { station: p.station } : {}), ...(p.label ? { label: p.label } : {}) })
      },
    },
  ]
}
