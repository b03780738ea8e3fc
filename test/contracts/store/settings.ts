/**
 * The audit log and the settings documents, whose every change it records.
 */
import { describe, expect, it } from 'vitest'
import type { SettingsDoc } from '../../../server/storage/settings-store.ts'
import { allPages, useDatabase, type TestDatabaseFactory } from './fixtures.ts'
import { waitFor } from '../../helpers/wait.ts'

const lineSettings = (fps: number) => ({ line: 'line-a', model: 'detector', policy: 'auto', captureFps: fps })

export function settingsContract(factory: TestDatabaseFactory): void {
  describe('audit log', () => {
    const h = useDatabase(factory)

    it('lists entries newest first, page by page, within a time range', async () => {
      const before = Date.now()
      for (let i = 0; i < 23; i++) await h.store.audit.append({ actor: 'alice', action: 'inference.pause', target: `line-${i}`, before: { paused: false }, after: { paused: true } })
      const { items, pages } = await allPages((cursor) => h.store.audit.list({ limit: 5, ...(cursor ? { cursor } : {}) }))
      expect(pages).toBe(5)
      expect(items.map((e) => e.target)).toEqual(Array.from({ length: 23 }, (_, i) => `line-${22 - i}`))
      expect(items[0]).toMatchObject({ actor: 'alice', action: 'inference.pause', before: { paused: false }, after: { paused: true } })
      expect(items.every((e) => e.at >= before && e.at <= Date.now())).toBe(true)
      expect((await h.store.audit.list({ from: Date.now() + 60_000 })).items).toEqual([])
      expect((await h.store.audit.list({ to: before })).items).toEqual([])
      expect((await h.store.audit.list({ from: before, to: Date.now() + 1 })).items).toHaveLength(23)
    })

    it('keeps an absent value apart from null', async () => {
      await h.store.audit.append({ actor: 'a', action: 'x.create', target: 't', after: null })
      const [entry] = (await h.store.audit.list()).items
      expect(entry).not.toHaveProperty('before')
      expect(entry).toHaveProperty('after', null)
    })
  })

  describe('settings', () => {
    const h = useDatabase(factory, { settingsPollMs: 20 })

    it('stores a document and audits it with before and after', async () => {
      const first = await h.store.settings.put('line:line-a', lineSettings(5), 'alice')
      const second = await h.store.settings.put('line:line-a', lineSettings(10), 'bob')
      expect(second.revision).toBeGreaterThan(first.revision)
      expect(await h.store.settings.get('line:line-a')).toEqual(second)
      expect(second).toMatchObject({ key: 'line:line-a', value: lineSettings(10), updatedBy: 'bob' })
      const { items } = await h.store.audit.list()
      expect(items.map(({ actor, action, target, before, after }) => ({ actor, action, target, before, after }))).toEqual([
        { actor: 'bob', action: 'settings.put', target: 'line:line-a', before: lineSettings(5), after: lineSettings(10) },
        { actor: 'alice', action: 'settings.put', target: 'line:line-a', before: undefined, after: lineSettings(5) },
      ])
      // the revision is the audit entry that made it
      expect(items[0]!.id).toBe(second.revision)
      expect(await h.store.settings.get('global')).toBeNull()
    })

    it('lists documents by key prefix', async () => {
      for (const key of ['line:b', 'global', 'line:a', 'scaling', 'lines-extra']) await h.store.settings.put(key, { key }, 'x')
      expect((await h.store.settings.list('line:')).map((d) => d.key)).toEqual(['line:a', 'line:b'])
      expect((await h.store.settings.list()).map((d) => d.key)).toEqual(['global', 'line:a', 'line:b', 'lines-extra', 'scaling'])
      expect(await h.store.settings.list('LINE:')).toEqual([])
    })

    it('rejects keys and values it cannot store, changing nothing', async () => {
      await expect(h.store.settings.put('../etc', {}, 'x')).rejects.toMatchObject({ code: 'invalid' })
      await expect(h.store.settings.put('line:a b', {}, 'x')).rejects.toMatchObject({ code: 'invalid' })
      await expect(h.store.settings.put('global', undefined, 'x')).rejects.toMatchObject({ code: 'invalid' })
      await expect(h.store.settings.put('global', { big: 'x'.repeat(1024 * 1024) }, 'x')).rejects.toMatchObject({ code: 'invalid' })
      expect(await h.store.settings.list()).toEqual([])
      expect((await h.store.audit.list()).items).toEqual([])
    })

    it('changes neither the document nor the log when the audit entry cannot be written', async () => {
      await h.store.settings.put('global', { a: 1 }, 'alice')
      // an empty actor is refused by the audit log, inside the put's transaction
      await expect(h.store.settings.put('global', { a: 2 }, '')).rejects.toMatchObject({ code: 'invalid' })
      expect((await h.store.settings.get('global'))?.value).toEqual({ a: 1 })
      expect((await h.store.audit.list()).items).toHaveLength(1)
    })

    it('keeps the audit chain consistent when two stores put one key at once', async () => {
      const other = await h.another()
      await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? other : h.store).settings.put('scaling', { n: i }, `actor-${i}`)))
      const entries = (await h.store.audit.list()).items.reverse()
      expect(entries).toHaveLength(16)
      entries.forEach((e, i) => expect(e.before).toEqual(i === 0 ? undefined : entries[i - 1]!.after))
      const doc = await h.store.settings.get('scaling')
      expect(doc?.value).toEqual(entries[15]!.after)
      expect(doc?.revision).toBe(entries[15]!.id)
    })

    it('tells listeners in this process about each put', async () => {
      const seen: SettingsDoc[] = []
      const stop = await h.store.settings.onChange((d) => seen.push(d))
      const put = await h.store.settings.put('line:line-a', lineSettings(3), 'alice')
      expect(seen).toEqual([put])
      stop()
      await h.store.settings.put('line:line-a', lineSettings(4), 'alice')
      expect(seen).toHaveLength(1)
    })

    it('tells listeners about puts made by another process, once each', async () => {
      const other = await h.another({ settingsPollMs: 20 })
      const seen: SettingsDoc[] = []
      await h.store.settings.onChange((d) => seen.push(d))
      const put = await other.settings.put('line:line-b', lineSettings(7), 'bob')
      await waitFor(() => seen.length >= 1, { what: '1 change(s) seen' })
      expect(seen[0]).toEqual(put)
      const again = await other.settings.put('global', { theme: 'dark' }, 'bob')
      await waitFor(() => seen.length >= 2, { what: '2 change(s) seen' })
      expect(seen[1]).toEqual(again)
      // a listener in the writing process hears it once too, not again through the feed
      const mine: SettingsDoc[] = []
      await other.settings.onChange((d) => mine.push(d))
      const third = await other.settings.put('scaling', { max: 4 }, 'bob')
      await waitFor(() => seen.length >= 3, { what: '3 change(s) seen' })
      expect(mine).toEqual([third])
      expect(seen).toEqual([put, again, third])
    })

    it('keeps telling the other listeners when one throws', async () => {
      const seen: string[] = []
      await h.store.settings.onChange(() => {
        throw new Error('listener bug')
      })
      await h.store.settings.onChange((d) => seen.push(d.key))
      await h.store.settings.put('global', {}, 'x')
      expect(seen).toEqual(['global'])
    })
  })
}
