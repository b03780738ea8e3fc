/**
 * Hostile input against the upload and job routes of a real linesight process: path traversal
 * in every field a client controls, oversize and lying uploads, offsets that skip or overlap,
 * a decompression-bomb PNG and zip bombs. Each is refused with a clear JSON error, nothing is
 * written outside the uploads folder, and the server keeps serving.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { lstat, readdir, realpath } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import sharp from 'sharp'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bombPng, makeTar, makeZip } from '../fixtures/archives.ts'
import { TUS, bearer, createUpload, encodeMetadata, headUpload, newUpload, patchUpload, rawRequest, tusUpload, waitForJob } from '../helpers/tus.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'

const MiB = 1024 * 1024
const LIMITS = { maxBytes: 8 * MiB, pendingBytes: 20 * MiB, perClient: 3, archiveBytes: 32 * MiB, archiveEntries: 100 }
/** Unique to this run, so a stray file it left could be found and blamed. */
const TAG = `linesight-evil-${randomBytes(4).toString('hex')}`

let server: RunningServer
let jpeg: Buffer

beforeAll(async () => {
  server = await startServer({
    env: {
      UPLOAD_MAX_BYTES: String(LIMITS.maxBytes),
      UPLOAD_MAX_PENDING_BYTES: String(LIMITS.pendingBytes),
      UPLOAD_MAX_PENDING_PER_CLIENT: String(LIMITS.perClient),
      UPLOAD_ARCHIVE_MAX_BYTES: String(LIMITS.archiveBytes),
      UPLOAD_ARCHIVE_MAX_ENTRIES: String(LIMITS.archiveEntries),
    },
  })
  jpeg = await sharp({ create: { width: 96, height: 64, channels: 3, background: '#5a7' } }).jpeg().toBuffer()
}, 120_000)

afterAll(async () => {
  await server?.stop()
})

/** A station token of its own, so one test's pending uploads do not count against another's. */
async function stationToken(lines = ['L1']): Promise<string> {
  const res = await server.admin('/api/v1/admin/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: 'station', lines, label: 'hostile' }) })
  expect(res.status).toBe(201)
  return ((await res.json()) as { secret: string }).secret
}

async function errorOf(res: Response | { status: number; body: string }): Promise<{ status: number; code: string; message: string }> {
  const text = 'body' in res && typeof res.body === 'string' ? res.body : await (res as Response).text()
  const { error } = JSON.parse(text) as { error: { code: string; message: string } }
  expect(error.message.length).toBeGreaterThan(0)
  return { status: res.status, code: error.code, message: error.message }
}

async function stillServing(): Promise<void> {
  expect((await fetch(`${server.url}/health`)).status).toBe(200)
  const res = await server.admin(`/api/v1/detect?line=L1&station=S1`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: jpeg as BodyInit })
  expect(res.status).toBe(200)
}

async function tree(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    out.push(p)
    if (e.isDirectory()) out.push(...(await tree(p)))
  }
  return out
}

describe('path traversal', () => {
  it('treats a metadata filename as a label only', async () => {
    const id = await tusUpload(server.url, jpeg, { line: 'L1', filename: `../../../../../../../../tmp/${TAG}.jpg` })
    const job = await waitForJob(server.url, id)
    expect([job.status, job.done]).toEqual(['done', 1])
    expect(job.upload?.filename).toBe(`${TAG}.jpg`)
    expect(existsSync(join(tmpdir(), `${TAG}.jpg`))).toBe(false)
  })

  it.each([
    ['line', { line: '../../etc' }, 'bad_line'],
    ['line', { line: 'L1/../../L2' }, 'bad_line'],
    ['line', { line: '' }, 'bad_line'],
    ['station', { line: 'L1', station: '../../../tmp' }, 'bad_station'],
  ])('refuses a traversal in the metadata %s with 400', async (_field, meta, code) => {
    const res = await createUpload(server.url, 10, meta)
    expect(await errorOf(res)).toMatchObject({ status: 400, code })
  })

  it('refuses ids that are paths in every upload and job URL', async () => {
    const real = (await newUpload(server.url, 10, { line: 'L1' })).split('/').pop()!
    const ids = ['..%2F..%2F..%2Fetc%2Fpasswd', '%2e%2e', `..%2F${real}`, `${real}%00`, '%E0%A4%A', encodeURIComponent(`${real}/../${real}`)]
    for (const id of ids) {
      for (const method of ['HEAD', 'PATCH', 'DELETE']) {
        const r = await rawRequest(server.url, method, `/api/v1/uploads/${id}`, { headers: { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }, body: method === 'PATCH' ? Buffer.alloc(10) : undefined })
        expect({ id, method, status: r.status }).toEqual({ id, method, status: 404 })
      }
      for (const path of [`/api/v1/jobs/${id}`, `/api/v1/jobs/${id}/results?format=csv`, `/api/v1/results/${id}`]) {
        const r = await rawRequest(server.url, 'GET', path)
        expect({ path, status: r.status }).toEqual({ path, status: expect.toBeOneOf([400, 404]) })
        await errorOf(r)
      }
    }
    // un-normalised dot segments never reach a handler with a path in hand
    const dots = await rawRequest(server.url, 'HEAD', `/api/v1/uploads/../../../etc/passwd`, { headers: TUS })
    expect(dots.status).toBe(404)
    // the real upload was not touched by any of it
    expect((await headUpload(`${server.url}/api/v1/uploads/${real}`)).headers.get('upload-offset')).toBe('0')
    await stillServing()
  })

  it.each([
    ['zip', () => makeZip(names().map((name) => ({ name, data: jpeg })))],
    ['tar', () => makeTar(names().map((name) => ({ name, data: jpeg })))],
  ])('refuses %s entries whose names climb out, and writes none of them', async (_kind, make) => {
    const id = await tusUpload(server.url, await make(), { line: 'L1' })
    const job = await waitForJob(server.url, id)
    expect(job.status).toBe('failed')
    expect(job.error?.code).toBe('no_images')
    expect(job.upload?.archive?.skipped).toEqual({ unsafe_name: names().length })
    for (const where of [tmpdir(), join(ROOT, '..'), '/']) expect((await readdir(where)).filter((f) => f.includes(TAG))).toEqual([])
  })
})

function names(): string[] {
  return [`../../../../../../tmp/${TAG}-slip.jpg`, `/tmp/${TAG}-abs.jpg`, `..\\..\\${TAG}-win.jpg`, `ok/../../${TAG}-up.jpg`, `C:/${TAG}-drive.jpg`]
}

describe('sizes and offsets', () => {
  it('refuses an Upload-Length over UPLOAD_MAX_BYTES with 413', async () => {
    expect(await errorOf(await createUpload(server.url, LIMITS.maxBytes + 1, { line: 'L1' }))).toMatchObject({ status: 413, code: 'too_large' })
  })

  it('refuses one unfinished upload more than UPLOAD_MAX_PENDING_PER_CLIENT with 429', async () => {
    const token = await stationToken()
    const urls = []
    for (let i = 0; i < LIMITS.perClient; i++) urls.push(await newUpload(server.url, 10, { line: 'L1' }, token))
    expect(await errorOf(await createUpload(server.url, 10, { line: 'L1' }, token))).toMatchObject({ status: 429, code: 'too_many_uploads' })
    // another client is not affected, and finishing one makes room again
    expect((await createUpload(server.url, 10, { line: 'L1' }, await stationToken())).status).toBe(201)
    expect((await fetch(urls[0]!, { method: 'DELETE', headers: { ...TUS, ...bearer(token) } })).status).toBe(204)
    expect((await createUpload(server.url, 10, { line: 'L1' }, token)).status).toBe(201)
  })

  it('refuses uploads past UPLOAD_MAX_PENDING_BYTES with 507 until space frees up', async () => {
    const big = LIMITS.maxBytes
    const held = [await newUpload(server.url, big, { line: 'L1' }, await stationToken()), await newUpload(server.url, big, { line: 'L1' }, await stationToken())]
    const third = await stationToken()
    expect(await errorOf(await createUpload(server.url, big, { line: 'L1' }, third))).toMatchObject({ status: 507, code: 'uploads_full' })
    // someone else's upload is not there for an anonymous caller; the admin may end it
    const stranger = bearer(await stationToken())
    for (const url of held) expect((await fetch(url, { method: 'DELETE', headers: { ...TUS, ...stranger } })).status).toBe(404)
    await Promise.all(held.map(async (url) => server.admin(url.slice(server.url.length), { method: 'DELETE', headers: TUS })))
    expect((await createUpload(server.url, big, { line: 'L1' }, third)).status).toBe(201)
  })

  it('refuses a PATCH with more bytes than Upload-Length, declared or chunked, and keeps the offset', async () => {
    const url = await newUpload(server.url, 1000, { line: 'L1' })
    const path = url.slice(server.url.length)
    const headers = { ...TUS, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0' }
    const declared = await rawRequest(server.url, 'PATCH', path, { headers, body: randomBytes(1500) })
    expect(await errorOf(declared)).toMatchObject({ status: 400, code: 'beyond_length' })
    const chunked = await rawRequest(server.url, 'PATCH', path, { headers, body: randomBytes(1500), chunked: true })
    expect(await errorOf(chunked)).toMatchObject({ status: 400, code: 'beyond_length' })
    expect((await headUpload(url)).headers.get('upload-offset')).toBe('0')
    expect((await patchUpload(url, 0, randomBytes(1000))).status).toBe(204)
  })

  it('refuses offsets that skip or overlap with 409 and keeps what was received', async () => {
    const url = await newUpload(server.url, 300, { line: 'L1' })
    expect(await errorOf(await patchUpload(url, 10, Buffer.alloc(10)))).toMatchObject({ status: 409, code: 'offset_mismatch' })
    expect((await patchUpload(url, 0, Buffer.alloc(100))).status).toBe(204)
    expect(await errorOf(await patchUpload(url, 50, Buffer.alloc(100)))).toMatchObject({ status: 409, code: 'offset_mismatch' })
    expect(await errorOf(await patchUpload(url, 150, Buffer.alloc(100)))).toMatchObject({ status: 409, code: 'offset_mismatch' })
    expect((await headUpload(url)).headers.get('upload-offset')).toBe('100')
    await stillServing()
  })
})

describe('bombs', () => {
  it('refuses a decompression-bomb PNG from its header, alone or in a zip', async () => {
    const alone = await tusUpload(server.url, bombPng(), { line: 'L1', filename: 'bomb.png' })
    const job = await waitForJob(server.url, alone)
    expect([job.status, job.error?.code]).toEqual(['failed', 'too_many_pixels'])
    const zipped = await tusUpload(server.url, makeZip([{ name: 'bomb.png', data: bombPng(), method: 'store' }, { name: 'part.jpg', data: jpeg }]), { line: 'L1' })
    const zjob = await waitForJob(server.url, zipped)
    expect([zjob.status, zjob.total, zjob.done]).toEqual(['done', 1, 1])
    expect(zjob.upload?.archive?.skipped).toEqual({ too_many_pixels: 1 })
    await stillServing()
  })

  it.each([
    ['unpacks past UPLOAD_ARCHIVE_MAX_BYTES', () => makeZip([{ name: 'zeros.bin', data: Buffer.alloc(LIMITS.archiveBytes + 1) }, { name: 'part.jpg', data: jpeg }]), 'archive_too_large'],
    ['declares more than UPLOAD_ARCHIVE_MAX_ENTRIES entries', () => makeZip(Array.from({ length: LIMITS.archiveEntries + 1 }, (_, i) => ({ name: `p${i}.jpg`, data: jpeg }))), 'too_many_entries'],
    ['is a gzip bomb', async () => makeTar([{ name: 'zeros.bin', data: Buffer.alloc(LIMITS.archiveBytes + 1) }], { gzip: true }), 'archive_too_large'],
    ['is not an archive at all', async () => Buffer.concat([Buffer.from('PK\u0003\u0004'), randomBytes(4096)]), 'unreadable_archive'],
  ])('refuses a zip bomb that %s', async (_name, make, code) => {
    const data = await make()
    expect(data.length).toBeLessThan(LIMITS.maxBytes)
    const id = await tusUpload(server.url, data, { line: 'L1' })
    const job = await waitForJob(server.url, id)
    expect([job.status, job.total, job.error?.code]).toEqual(['failed', 0, code])
    expect(job.error?.message.length).toBeGreaterThan(0)
    await stillServing()
  })

  it('skips an entry that inflates past its declared size (a lying zip) and inspects the rest', async () => {
    const id = await tusUpload(server.url, makeZip([{ name: 'liar.bin', data: Buffer.alloc(4 * MiB), declaredSize: 100 }, { name: 'part.jpg', data: jpeg }]), { line: 'L1' })
    const job = await waitForJob(server.url, id)
    expect([job.status, job.done]).toEqual(['done', 1])
    expect(job.upload?.archive?.skipped).toEqual({ unreadable: 1 })
  })
})

describe('afterwards', () => {
  it('kept every upload file inside the uploads folder, under names it chose', async () => {
    const root = await realpath(server.dataDir)
    for (const p of await tree(root)) {
      const rel = relative(root, p)
      expect(rel.includes(TAG), rel).toBe(false)
      // nothing in the data folder links out of it (a file may go between listing and looking)
      const st = await lstat(p).catch(() => null)
      if (st?.isSymbolicLink()) expect((await realpath(p)).startsWith(root + '/'), rel).toBe(true)
      if (rel.startsWith('uploads/')) expect(rel).toMatch(/^uploads\/[0-9a-f]{32}\.(bin|json|json\.tmp)$/)
    }
    expect(existsSync(join(ROOT, '..', `${TAG}-slip.jpg`))).toBe(false)
    await stillServing()
  })

  it('answers uploads with a metadata header that is not tus metadata with 400', async () => {
    const res = await server.admin(`/api/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': '10', 'upload-metadata': `line ${encodeMetadata({ x: 'y' })}, line !!!` } })
    expect(await errorOf(res)).toMatchObject({ status: 400, code: 'bad_metadata' })
  })
})
