/**
 * Tokens: secrets shown once and stored hashed, roles and scopes, revocation, the bootstrap
 * admin token.
 */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { useDatabase, type TestDatabaseFactory } from './fixtures.ts'
import { waitFor } from '../../helpers/wait.ts'

export function tokensContract(factory: TestDatabaseFactory): void {
  describe('tokens', () => {
    const h = useDatabase(factory, { tokenCacheTtlMs: 50 })

    it('verifies a new token to its role, lines and label, and stores only its hash', async () => {
      const { secret, token } = await h.store.tokens.createToken({ role: 'station', lines: ['line-b', 'line-a'], label: 'Tablet 3', createdBy: 'tok-admin' })
      expect(secret).toMatch(/^ls_[A-Za-z0-9_-]{43}$/)
      expect(await h.store.tokens.verify(secret)).toEqual({ id: token.id, role: 'station', lines: ['line-a', 'line-b'], label: 'Tablet 3' })
      const db = await h.raw()
      const rows = await db.all<Record<string, unknown>>('SELECT * FROM tokens')
      expect(rows).toHaveLength(1)
      expect(JSON.stringify(rows)).not.toContain(secret.slice(3))
      expect(rows[0]!.hash).toBe(createHash('sha256').update(secret).digest('hex'))
      const listed = await h.store.tokens.list()
      expect(listed).toEqual([{ ...token }])
      expect(JSON.stringify(listed)).not.toContain(secret.slice(3))
    })

    it('gives each token its own secret', async () => {
      const a = await h.store.tokens.createToken({ role: 'kiosk', lines: ['line-a'], label: 'Hall display', createdBy: 'x' })
      const b = await h.store.tokens.createToken({ role: 'kiosk', lines: ['line-a'], label: 'Hall display', createdBy: 'x' })
      expect(a.secret).not.toBe(b.secret)
      expect(a.token.id).not.toBe(b.token.id)
      expect((await h.store.tokens.verify(b.secret))?.id).toBe(b.token.id)
    })

    it('does not verify a wrong, truncated or revoked secret', async () => {
      const { secret, token } = await h.store.tokens.createToken({ role: 'admin', label: 'ops', createdBy: 'x' })
      expect(await h.store.tokens.verify(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).toBeNull()
      expect(await h.store.tokens.verify(secret.slice(0, 20))).toBeNull()
      expect(await h.store.tokens.verify('')).toBeNull()
      expect((await h.store.tokens.verify(secret))?.role).toBe('admin')
      expect(await h.store.tokens.revoke(token.id, 'tok-other')).toBe(true)
      expect(await h.store.tokens.verify(secret)).toBeNull()
      expect(await h.store.tokens.revoke(token.id)).toBe(false)
      expect(await h.store.tokens.revoke('tok-nonexistent')).toBe(false)
      expect((await h.store.tokens.list())[0]?.revokedAt).toBeTypeOf('number')
    })

    it('stops verifying a token revoked by another process once its cache expires', async () => {
      const other = await h.another({ tokenCacheTtlMs: 50 })
      const { secret, token } = await h.store.tokens.createToken({ role: 'kiosk', lines: ['line-a'], label: 'k', createdBy: 'x' })
      expect(await other.tokens.verify(secret)).not.toBeNull()
      await h.store.tokens.revoke(token.id)
      await waitFor(async () => (await other.tokens.verify(secret)) === null, { what: 'the revocation to reach the other process' })
    })

    it('rejects scopes that do not fit the role', async () => {
      const t = h.store.tokens
      await expect(t.createToken({ role: 'station', lines: [], label: 'x', createdBy: 'x' })).rejects.toMatchObject({ code: 'invalid' })
      await expect(t.createToken({ role: 'admin', lines: ['line-a'], label: 'x', createdBy: 'x' })).rejects.toMatchObject({ code: 'invalid' })
      await expect(t.createToken({ role: 'kiosk', lines: ['bad line'], label: 'x', createdBy: 'x' })).rejects.toMatchObject({ code: 'invalid' })
      await expect(t.createToken({ role: 'root' as 'admin', label: 'x', createdBy: 'x' })).rejects.toMatchObject({ code: 'invalid' })
      await expect(t.createToken({ role: 'admin', label: '', createdBy: 'x' })).rejects.toMatchObject({ code: 'invalid' })
      expect(await t.list()).toEqual([])
    })

    it('audits creating and revoking, without the secret', async () => {
      const { secret, token } = await h.store.tokens.createToken({ role: 'kiosk', lines: ['line-c'], label: 'Hall', createdBy: 'alice' })
      await h.store.tokens.revoke(token.id, 'bob')
      const { items } = await h.store.audit.list()
      expect(items.map((e) => [e.actor, e.action, e.target])).toEqual([
        ['bob', 'token.revoke', token.id],
        ['alice', 'token.create', token.id],
      ])
      expect(items[1]!.after).toEqual({ role: 'kiosk', lines: ['line-c'], label: 'Hall' })
      expect(JSON.stringify(items)).not.toContain(secret.slice(3))
    })

    describe('the bootstrap admin token', () => {
      it('creates the configured admin token once', async () => {
        const secret = 'a-configured-admin-secret-0123456789'
        const first = await h.store.tokens.ensureAdminToken(secret)
        expect(first).toMatchObject({ created: true })
        expect(first.secret).toBeUndefined()
        expect(await h.store.tokens.ensureAdminToken(secret)).toEqual({ id: first.id, created: false })
        expect(await h.store.tokens.verify(secret)).toEqual({ id: first.id, role: 'admin', lines: [], label: 'bootstrap' })
        expect(await h.store.tokens.list()).toHaveLength(1)
      })

      it('reports a configured admin token that was revoked, and leaves it revoked', async () => {
        const secret = 'a-configured-admin-secret-0123456789'
        const { id } = await h.store.tokens.ensureAdminToken(secret)
        await h.store.tokens.revoke(id)
        expect(await h.store.tokens.ensureAdminToken(secret)).toEqual({ id, created: false, revoked: true })
        expect(await h.store.tokens.verify(secret)).toBeNull()
      })

      it('refuses a configured secret that is too short or belongs to a non-admin token', async () => {
        await expect(h.store.tokens.ensureAdminToken('short')).rejects.toMatchObject({ code: 'invalid' })
        const { secret } = await h.store.tokens.createToken({ role: 'station', lines: ['line-a'], label: 's', createdBy: 'x' })
        await expect(h.store.tokens.ensureAdminToken(secret)).rejects.toMatchObject({ code: 'invalid' })
      })

      it('generates one admin token when none exists, once, even when processes start together', async () => {
        const others = await Promise.all([h.another(), h.another()])
        const outcomes = await Promise.all([h.store, ...others].map((s) => s.tokens.ensureAdminToken()))
        const created = outcomes.filter((o) => o.created)
        expect(created).toHaveLength(1)
        expect(created[0]!.secret).toMatch(/^ls_/)
        expect(await h.store.tokens.verify(created[0]!.secret!)).toMatchObject({ role: 'admin', label: 'bootstrap' })
        expect(outcomes.every((o) => o.id === created[0]!.id)).toBe(true)
        expect(await h.store.tokens.ensureAdminToken()).toEqual({ id: created[0]!.id, created: false })
      })

      it('generates a new one when every admin token was revoked', async () => {
        const first = await h.store.tokens.ensureAdminToken()
        await h.store.tokens.revoke(first.id)
        const second = await h.store.tokens.ensureAdminToken()
        expect(second.created).toBe(true)
        expect(second.id).not.toBe(first.id)
      })
    })
  })
}
