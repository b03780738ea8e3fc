/**
 * The two WebSocket routes as uWebSockets.js behaviours. Only translation happens here; the
 * logic is in server/ingest/station-session.ts and kiosk-session.ts.
 *
 * uWS rules that bite here: copy everything out of `req` in `upgrade` before any await and
 * upgrade inside `cork` afterwards; a message's ArrayBuffer is neutered when the handler
 * returns (the sessions copy what they keep synchronously); never send on a closed socket.
 */
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_socket_context_t } from 'uWebSockets.js'
import type { Principal } from '../auth/principal.ts'
import { KioskSession } from '../results/kiosk-session.ts'
import { StationSession, type StationDeps } from '../ingest/station-session.ts'
import type { KioskDeps } from '../results/kiosk-session.ts'
import { errorReply, isExpected, writeReply } from './http.ts'

interface SocketData {
  role: 'station' | 'kiosk'
  principal: Principal
  closed: boolean
  session?: StationSession | KioskSession
}

export interface WsOptions {
  station: StationDeps
  kiosk: KioskDeps
  /** Largest WebSocket message; bigger ones make uWS close the socket (code 1009). */
  maxMessageBytes: number
  kioskMaxBufferedBytes: number
  authenticateUpgrade(headers: Record<string, string>, query: URLSearchParams, role: 'station' | 'kiosk', address: string): Promise<Principal>
  onConnections(role: 'station' | 'kiosk', delta: number): void
  onError(err: unknown, where: string): void
}

export interface WsRoutes {
  stations: Set<StationSession>
  /** Open sockets by the token they were opened with, so revoking a token closes them at once. */
  byToken: Map<string, Set<WebSocket<SocketData>>>
}

function track(routes: WsRoutes, ws: WebSocket<SocketData>, open: boolean): void {
  const id = ws.getUserData().principal.tokenId
  if (!id) return
  const set = routes.byToken.get(id) ?? new Set()
  if (open) set.add(ws)
  else set.delete(ws)
  if (set.size) routes.byToken.set(id, set)
  else routes.byToken.delete(id)
}

function upgradeHandler(role: 'station' | 'kiosk', opts: WsOptions) {
  return (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => {
    let aborted = false
    res.onAborted(() => {
      aborted = true
    })
    // You MUST copy data out of req here: it is invalid after this callback
    const headers: Record<string, string> = {}
    req.forEach((k, v) => {
      headers[k] = v
    })
    const query = new URLSearchParams(req.getQuery() ?? '')
    const key = headers['sec-websocket-key'] ?? ''
    const protocol = headers['sec-websocket-protocol'] ?? ''
    const extensions = headers['sec-websocket-extensions'] ?? ''
    const address = Buffer.from(res.getRemoteAddressAsText()).toString()
    opts
      .authenticateUpgrade(headers, query, role, address)
      .then((principal) => {
        if (aborted) return
        res.cork(() => {
          res.upgrade<SocketData>({ role, principal, closed: false }, key, protocol, extensions, context)
        })
      })
      .catch((err: unknown) => {
        if (aborted) return
        if (!isExpected(err)) opts.onError(err, `upgrade ${role}`)
        writeReply(res, errorReply(err), {})
      })
  }
}

function sinkOf(ws: WebSocket<SocketData>) {
  return {
    bufferedAmount: () => (ws.getUserData().closed ? Number.MAX_SAFE_INTEGER : ws.getBufferedAmount()),
    send: (text: string) => {
      if (ws.getUserData().closed) return
      // sends happen after awaits too: cork so uWS writes them in one syscall
      ws.cork(() => {
        ws.send(text, false)
      })
    },
  }
}

export function registerWebSockets(app: TemplatedApp, opts: WsOptions, routes: WsRoutes): void {
  const common = {
    maxPayloadLength: opts.maxMessageBytes,
    idleTimeout: 60,
    sendPingsAutomatically: true,
  }
  app.ws<SocketData>('/ws/station', {
    ...common,
    maxBackpressure: 4 * 1024 * 1024,
    upgrade: upgradeHandler('station', opts),
    open: (ws) => {
      const data = ws.getUserData()
      const session = new StationSession(opts.station, sinkOf(ws), data.principal)
      data.session = session
      routes.stations.add(session)
      track(routes, ws, true)
      opts.onConnections('station', 1)
    },
    message: (ws, message, isBinary) => {
      const session = ws.getUserData().session as StationSession
      const work = isBinary
        ? session.onBinary(new Uint8Array(message)) // decoded and copied synchronously inside
        : session.onText(Buffer.from(message).toString('utf8'))
      work.catch((err: unknown) => opts.onError(err, 'station message'))
    },
    close: (ws) => {
      const data = ws.getUserData()
      data.closed = true
      const session = data.session as StationSession
      routes.stations.delete(session)
      track(routes, ws, false)
      session.close()
      opts.onConnections('station', -1)
    },
  })
  app.ws<SocketData>('/ws/kiosk', {
    ...common,
    maxPayloadLength: 64 * 1024,
    // a little above the skip threshold: the hub skips slow kiosks before uWS would drop
    maxBackpressure: opts.kioskMaxBufferedBytes * 2,
    upgrade: upgradeHandler('kiosk', opts),
    open: (ws) => {
      const data = ws.getUserData()
      data.session = new KioskSession(opts.kiosk, sinkOf(ws), data.principal)
      track(routes, ws, true)
      opts.onConnections('kiosk', 1)
    },
    message: (ws, message, isBinary) => {
      const session = ws.getUserData().session as KioskSession
      if (isBinary) {
        sinkOf(ws).send(JSON.stringify({ type: 'error', error: { code: 'binary_not_accepted', message: 'kiosks send JSON text messages only' } }))
        return
      }
      session.onText(Buffer.from(message).toString('utf8')).catch((err: unknown) => opts.onError(err, 'kiosk message'))
    },
    close: (ws) => {
      const data = ws.getUserData()
      data.closed = true
      track(routes, ws, false)
      ;(data.session as KioskSession).close()
      opts.onConnections('kiosk', -1)
    },
  })
}
