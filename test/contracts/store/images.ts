/**
 * Stored images (policy, thumbnails, types) and retention, which must take them along.
 */
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { startRetention } from '../../../server/storage/retention.ts'
import { THUMBNAIL_MAX_PX } from '../../../server/storage/images.ts'
import { jpeg, png, result, useDatabase, type TestDatabaseFactory } from './fixtures.ts'
import { waitFor } from '../../helpers/wait.ts'

const failing = (over = {}) => result({ detections: [{ classId: 0, class: 'scratch', score: 0.9, box: [1, 1, 9, 9] }], ...over })
const DAY = 86_400_000

export function imagesContract(factory: TestDatabaseFactory): void {
  describe('images (default policy: failing frames, thumbnail and original)', () => {
    const h = useDatabase(factory)

    it('keeps the original and a thumbnail of at most 320 px of a failing frame', async () => {
      const original = await jpeg(1280, 720)
      const r = failing()
      await h.store.record(r, { mime: 'image/jpeg', original })
      const o = await h.store.getImage(r.frameId, 'original')
      expect(o?.mime).toBe('image/jpeg')
      expect(Buffer.compare(Buffer.from(o!.bytes), Buffer.from(original))).toBe(0)
      const t = await h.store.getImage(r.frameId, 'thumbnail')
      expect(t?.mime).toBe('image/jpeg')
      const meta = await sharp(t!.bytes).metadata()
      expect(meta.format).toBe('jpeg')
      expect(meta.width).toBe(THUMBNAIL_MAX_PX)
      expect(meta.height).toBe(180)
    })

    it('keeps no image of a passing frame', async () => {
      const r = result()
      expect(r.verdict).toBe('pass')
      await h.store.record(r, { mime: 'image/jpeg', original: await jpeg(64, 64) })
      expect(await h.store.getImage(r.frameId, 'original')).toBeNull()
      expect(await h.store.getImage(r.frameId, 'thumbnail')).toBeNull()
    })

    it('serves the type the bytes are, not the type the sender claimed', async () => {
      const r = failing()
      await h.store.record(r, { mime: 'text/html', original: await png(40, 30) })
      expect((await h.store.getImage(r.frameId, 'original'))?.mime).toBe('image/png')
      expect((await h.store.getImage(r.frameId, 'thumbnail'))?.mime).toBe('image/jpeg')
    })

    it('replaces a frame\'s model-size image by its full-resolution evidence, thumbnail made again', async () => {
      const r = failing()
      await h.store.record(r, { mime: 'image/jpeg', original: await jpeg(320, 180) })
      const evidence = await jpeg(1280, 720)
      expect(await h.store.saveEvidence(r.frameId, evidence)).toBe(true)
      const o = await h.store.getImage(r.frameId, 'original')
      expect(o?.mime).toBe('image/jpeg')
      expect(Buffer.compare(Buffer.from(o!.bytes), Buffer.from(evidence))).toBe(0)
      const t = await sharp((await h.store.getImage(r.frameId, 'thumbnail'))!.bytes).metadata()
      expect([t.width, t.height]).toEqual([THUMBNAIL_MAX_PX, 180])
      expect(await h.store.get(r.frameId)).toEqual(r)
    })

    it('keeps evidence of a frame that had no image (a passing frame, evidence `all`)', async () => {
      const r = result()
      await h.store.record(r)
      expect(await h.store.getImage(r.frameId, 'original')).toBeNull()
      expect(await h.store.saveEvidence(r.frameId, await png(64, 48))).toBe(true)
      expect((await h.store.getImage(r.frameId, 'original'))?.mime).toBe('image/png')
      expect((await h.store.getImage(r.frameId, 'thumbnail'))?.mime).toBe('image/jpeg')
    })

    it('stores no evidence for a frame with no record, nor bytes that are not an image', async () => {
      expect(await h.store.saveEvidence('no-such-frame', await jpeg(64, 48))).toBe(false)
      expect(await h.store.getImage('no-such-frame', 'original')).toBeNull()
      const r = failing()
      const first = await jpeg(32, 24)
      await h.store.record(r, { mime: 'image/jpeg', original: first })
      await expect(h.store.saveEvidence(r.frameId, new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]))).rejects.toMatchObject({ code: 'invalid' })
      expect(Buffer.compare(Buffer.from((await h.store.getImage(r.frameId, 'original'))!.bytes), Buffer.from(first))).toBe(0)
    })

    it('does not replace the image of a frame recorded before', async () => {
      const first = await jpeg(100, 100)
      const r = failing()
      await h.store.record(r, { mime: 'image/jpeg', original: first })
      expect(await h.store.record(r, { mime: 'image/png', original: await png(50, 50) })).toBe(false)
      const o = await h.store.getImage(r.frameId, 'original')
      expect(o?.mime).toBe('image/jpeg')
      expect(Buffer.compare(Buffer.from(o!.bytes), Buffer.from(first))).toBe(0)
    })

    it('records the result and keeps the original when the image cannot be decoded', async () => {
      const r = failing()
      const junk = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5])
      expect(await h.store.record(r, { mime: 'image/jpeg', original: junk })).toBe(true)
      expect(await h.store.get(r.frameId)).toEqual(r)
      expect((await h.store.getImage(r.frameId, 'original'))?.bytes).toEqual(junk)
      expect(await h.store.getImage(r.frameId, 'thumbnail')).toBeNull()
    })

    it('keeps a thumbnail the station made, as it is', async () => {
      const thumb = await jpeg(160, 120)
      const r = failing({ inferredAt: 'browser', source: 'browser' })
      await h.store.record(r, { mime: 'image/jpeg', thumbnail: thumb })
      expect((await h.store.getImage(r.frameId, 'thumbnail'))?.bytes).toEqual(thumb)
      expect(await h.store.getImage(r.frameId, 'original')).toBeNull()
    })

    it('removes results, detections and images captured before the cut', async () => {
      const now = Date.now()
      const old = [failing({ capturedAt: now - 40 * DAY }), result({ capturedAt: now - 31 * DAY })]
      const fresh = [failing({ capturedAt: now - 29 * DAY }), result({ capturedAt: now })]
      for (const r of [...old, ...fresh]) await h.store.record(r, { mime: 'image/jpeg', original: await jpeg(32, 32) })
      expect(await h.store.deleteBefore(now - 30 * DAY)).toBe(2)
      for (const r of old) {
        expect(await h.store.get(r.frameId)).toBeNull()
        expect(await h.store.getImage(r.frameId, 'original')).toBeNull()
      }
      expect((await h.store.query({})).items.map((r) => r.frameId).sort()).toEqual(fresh.map((r) => r.frameId).sort())
      expect(await h.store.countsByClass({})).toEqual([
        { line: 'line-a', class: 'part', count: 1 },
        { line: 'line-a', class: 'scratch', count: 1 },
      ])
      expect(await h.store.getImage(fresh[0]!.frameId, 'thumbnail')).not.toBeNull()
      expect(await h.store.deleteBefore(now - 30 * DAY)).toBe(0)
    })

    it('deletes more results than one batch holds', async () => {
      const now = Date.now()
      for (let i = 0; i < 1203; i++) await h.store.record(result({ capturedAt: now - 60 * DAY + i }))
      await h.store.record(result({ capturedAt: now }))
      expect(await h.store.deleteBefore(now - DAY)).toBe(1203)
      expect((await h.store.query({})).items).toHaveLength(1)
    })

    it('runs retention on a schedule until stopped', async () => {
      const now = Date.now()
      const old = failing({ capturedAt: now - 31 * DAY })
      const recent = failing({ capturedAt: now - 29 * DAY })
      await h.store.record(old, { mime: 'image/jpeg', original: await jpeg(16, 16) })
      await h.store.record(recent)
      const runs: number[] = []
      const stop = startRetention(h.store, 30, { intervalMs: 20, onRun: (n) => runs.push(n) })
      try {
        await waitFor(async () => (await h.store.get(old.frameId)) === null, { what: 'the old record to go' })
        const late = failing({ capturedAt: now - 45 * DAY })
        await h.store.record(late)
        // the next scheduled run, not the first one, removes what arrived later
        await waitFor(async () => (await h.store.get(late.frameId)) === null, { what: 'the late record to go' })
        expect(runs.reduce((a, b) => a + b, 0)).toBe(2)
      } finally {
        stop()
      }
      expect(await h.store.get(recent.frameId)).toEqual(recent)
    })

    it('keeps everything when retention is 0 days', async () => {
      const old = result({ capturedAt: 1000 })
      await h.store.record(old)
      const stop = startRetention(h.store, 0, { intervalMs: 1 })
      stop()
      expect(await h.store.get(old.frameId)).toEqual(old)
    })
  })

  for (const [policy, expectPass, expectOriginal] of [
    [{ storeImages: 'all' }, true, true],
    [{ storeImages: 'none' }, false, false],
    [{ storeOriginals: false }, false, false],
  ] as const) {
    describe(`images with ${JSON.stringify(policy)}`, () => {
      const h = useDatabase(factory, policy)
      it(`${expectPass ? 'keeps' : 'does not keep'} passing frames' images; ${expectOriginal ? 'keeps' : 'does not keep'} originals`, async () => {
        const pass = result()
        const fail = failing()
        for (const r of [pass, fail]) await h.store.record(r, { mime: 'image/jpeg', original: await jpeg(48, 48) })
        expect((await h.store.getImage(pass.frameId, 'thumbnail')) !== null).toBe(expectPass)
        expect((await h.store.getImage(fail.frameId, 'original')) !== null).toBe(expectOriginal)
        expect((await h.store.getImage(fail.frameId, 'thumbnail')) !== null).toBe(policy.storeImages !== 'none')
      })
    })
  }
}
