/**
 * Devices and lines: pairing codes are single use and expire, a paired device's token carries its
 * scope, revoking a device revokes its token, lines are made once, migration 6 keeps the lines
 * already in use, and every change is audited.
 */
import { describe, expect, it } from 'vitest'
import { migrate } from '../../../server/storage/migrate.ts'
import { MIGRATIONS } from '../../../server/storage/schema.ts'
import { result, useDatabase, type TestDatabaseFactory } from './fixtures.ts'

const from = { address: '10.0.0.7', userAgent: 'Tablet/1' }

export function devicesContract(factory: TestDatabaseFactory): void {
  describe('devices and lines', () => {
    const h = useDatabase(factory, { tokenCacheTtlMs: 50 })

    it('pairs a station once, with a token scoped to its line and station, and makes its line', async () => {
      const { device, code } = await h.store.devices.create({ kind: 'station', lines: ['line-a'], station: 'st-1' }, 'admin:tok-1')
      expect(device).toMatchObject({ kind: 'station', lines: ['line-a'], station: 'st-1', status: 'pending', name: 'Station line-a/st-1' })
      expect(code).toMatch(/^[A-Z2-9]{8}$/)
      expect(await h.store.lines.exists('line-a')).toBe(true)
      const paired = await h.store.devices.pair(`${code.slice(0, 4).toLowerCase()}-${code.slice(4)}`, from)
      expect(paired?.device).toMatchObject({ status: 'paired', address: '10.0.0.7', userAgent: 'Tablet/1' })
      expect(await h.store.tokens.verify(paired!.secret)).toMatchObject({ role: 'station', lines: ['line-a'], station: 'st-1' })
      expect(await h.store.devices.pair(code, from)).toBeNull()
      const db = await h.raw()
      expect(JSON.stringify(await db.all('SELECT * FROM devices'))).not.toContain(code)
    })

    it('refuses an expired code', async () => {
      const { device, code } = await h.store.devices.create({ kind: 'kiosk', lines: ['line-a', 'line-b'] }, 'admin')
      const db = await h.raw()
      await db.run('UPDATE devices SET code_expires_at = $1 WHERE id = $2', [Date.now() - 1, device.id])
      expect(await h.store.devices.pair(code, from)).toBeNull()
      expect((await h.store.devices.get(device.id))?.status).toBe('expired')
    })

    it('revokes a device and its token together, and audits create, pair, rename and revoke', async () => {
      const { device, code } = await h.store.devices.create({ kind: 'kiosk', lines: ['line-b'] }, 'admin')
      const { secret } = (await h.store.devices.pair(code, from))!
      await h.store.devices.rename(device.id, 'Hall', 'admin')
      const revoked = await h.store.devices.revoke(device.id, 'admin')
      expect(revoked).toMatchObject({ status: 'revoked', name: 'Hall' })
      expect(await h.store.devices.revoke(device.id, 'admin')).toBeNull()
      await expect.poll(() => h.store.tokens.verify(secret)).toBeNull()
      const { items } = await h.store.audit.list({ limit: 100 })
      expect(items.filter((i) => i.target === device.id).map((i) => i.action).sort()).toEqual(['device.create', 'device.pair', 'device.rename', 'device.revoke'])
    })

    it('refuses a station without a station id or with several lines', async () => {
      await expect(h.store.devices.create({ kind: 'station', lines: ['line-a'] }, 'admin')).rejects.toMatchObject({ code: 'invalid' })
      await expect(h.store.devices.create({ kind: 'station', lines: ['line-a', 'line-b'], station: 's' }, 'admin')).rejects.toMatchObject({ code: 'invalid' })
    })

    it('makes a line once and audits it once', async () => {
      expect(await h.store.lines.create('line-z', 'admin')).toBe(true)
      expect(await h.store.lines.create('line-z', 'admin')).toBe(false)
      expect((await h.store.lines.list()).map((l) => l.line)).toEqual(['line-z'])
      const { items } = await h.store.audit.list({ limit: 100 })
      expect(items.filter((i) => i.action === 'line.create')).toHaveLength(1)
    })

    it('keeps, through migration 6, the lines results and settings already used, and the tokens', async () => {
      const fresh = await factory()
      try {
        const raw = await fresh.db()
        await migrate(raw, MIGRATIONS.filter((m) => m.version < 6))
        const store = await fresh.open()
        await store.record(result({ frameId: 'f-1', line: 'line-old' }))
        await raw.run("INSERT INTO settings (key, value, revision, updated_at, updated_by) VALUES ('line:line-set', '{}', 1, 0, 'x')")
        await raw.run("INSERT INTO tokens (id, hash, role, lines, label, created_by, created_at) VALUES ('tok-old', 'h', 'kiosk', '[\"line-old\"]', 'old', 'x', 0)")
        await migrate(raw, MIGRATIONS)
        expect((await store.lines.list()).map((l) => l.line)).toEqual(['line-old', 'line-set'])
        expect((await store.tokens.list()).map((t) => t.id)).toEqual(['tok-old'])
        await store.close()
        await raw.close()
      } finally {
        await fresh.drop()
      }
    })
  })
}
