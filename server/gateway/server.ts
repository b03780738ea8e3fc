/**
 * Starts the uWebSockets.js apps: plain HTTP (localhost, or behind a TLS-terminating proxy) and
 * HTTPS (tablets on the plant network). Both serve the same routes and sockets.
 */
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js'
import type { Route } from '../api/types.ts'
import { adapt, type HttpAdapterOptions } from './http.ts'
import { uws as loadedUws } from './uws.ts'
import { registerWebSockets, type WsOptions, type WsRoutes } from './ws.ts'

export interface GatewayOptions {
  host: string
  port: number
  https?: { port: number; certFile: string; keyFile: string }
  routes: Route[]
  http: HttpAdapterOptions
  ws: WsOptions
}

export interface Gateway {
  port: number
  httpsPort?: number
  routes: WsRoutes
  /**
   * Closes every socket opened with this token (revoked), with a reason the screen shows; the
   * number closed.
   */
  closeToken(tokenId: string, code: number, reason: string): number
  /** Stops accepting connections; open sockets are closed. */
  close(): void
}

function build(app: TemplatedApp, opts: GatewayOptions, routes: WsRoutes, secure: boolean): TemplatedApp {
  const http = { ...opts.http, secure }
  for (const route of opts.routes) app[route.method](route.pattern, adapt(route, http))
  registerWebSockets(app, opts.ws, routes)
  return app
}

function listen(app: TemplatedApp, host: string, port: number): Promise<us_listen_socket> {
  return new Promise((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (socket) resolve(socket)
      else reject(new Error(`cannot listen on ${host}:${port} (in use?)`))
    })
  })
}

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const uws = loadedUws()
  const routes: WsRoutes = { stations: new Set(), byToken: new Map() }
  const apps: TemplatedApp[] = []
  const sockets: us_listen_socket[] = []
  const http = build(uws.App(), opts, routes, false)
  apps.push(http)
  const s = await listen(http, opts.host, opts.port)
  sockets.push(s)
  const gateway: Gateway = {
    port: uws.us_socket_local_port(s as never),
    routes,
    closeToken(tokenId, code, reason) {
      const open = [...(routes.byToken.get(tokenId) ?? [])]
      for (const ws of open) ws.end(code, reason)
      return open.length
    },
    close() {
      for (const sock of sockets) uws.us_listen_socket_close(sock)
      for (const app of apps) (app as TemplatedApp & { close?: () => void }).close?.()
    },
  }
  if (opts.https) {
    const https = build(uws.SSLApp({ cert_file_name: opts.https.certFile, key_file_name: opts.https.keyFile }), opts, routes, true)
    apps.push(https)
    const ss = await listen(https, opts.host, opts.https.port)
    sockets.push(ss)
    gateway.httpsPort = uws.us_socket_local_port(ss as never)
  }
  return gateway
}
