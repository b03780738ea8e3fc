import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { currentPlatform } from '../../server/gateway/uws.ts'
import { versionAtLeast } from '../../server/gateway/uws-choice.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'

describe('uWebSockets.js at startup', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('says in /ready and in the startup log which native binary loaded and why the others were skipped', async () => {
    const ready = (await (await server.admin('/ready')).json()) as { uws: { native: boolean; package: string; implementation: string; skipped: { name: string; reason: string }[] } }
    expect(ready.uws.native).toBe(true)
    const glibc = currentPlatform().glibc
    if (glibc && !versionAtLeast(glibc, '2.38')) {
      expect(ready.uws.package).toBe('@trufflesuite/uws-js-unofficial')
      expect(ready.uws.skipped).toEqual([{ name: '@btc-vision/uwebsockets.js', reason: `needs glibc 2.38, this system has glibc ${glibc}` }])
    }
    const line = server.logs.find((l) => typeof l.msg === 'string' && l.msg.startsWith('uWebSockets.js: native'))
    expect(line).toMatchObject({ uws: ready.uws.package, skipped: ready.uws.skipped })
  })
})
