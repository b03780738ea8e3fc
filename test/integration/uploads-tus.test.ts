/**
 * The tus 1.0 endpoint against a real linesight process and the stock tus-js-client (as a
 * station uses it): discovery, resuming an upload cut off half-way, checksums, expiry and
 * termination.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import sharp from 'sharp'
import { Upload } from 'tus-js-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authHeaders } from '../helpers/server.ts'
import { TUS, headUpload, newUpload, patchUpload, startTus, waitForJob } from '../helpers/tus.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

const MiB = 1024 * 1024
const sha256 = (b: Uint8Array) => `sha256 ${createHash('sha256').update(b).digest('base64')}`
const uploadFiles = async (s: RunningServer) => (await readdir(join(s.dataDir, 'uploads'))).sort()

describe('tus uploads', () => {
  let server: RunningServer
  let endpoint: string
  /** Incompressible, so it cannot be checked by anything but every one of its bytes. */
  let noise: Buffer

  beforeAll(async () => {
    server = await startServer({ env: { STORE_IMAGES: 'all', STORE_ORIGINALS: 'true', MAX_FRAME_BYTES: String(64 * MiB) } })
    endpoint = `${server.url}/api/v1/uploads`
    noise = await sharp(randomBytes(2900 * 2900 * 3), { raw: { width: 2900, height: 2900, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer()
  }, 120_000)
  afterAll(async () => {
    await server?.stop()
  })

  it('announces the protocol, its extensions and limits with OPTIONS', async () => {
    const res = await fetch(endpoint, { method: 'OPTIONS' })
    expect(res.status).toBe(204)
    expect(res.headers.get('tus-version')).toBe('1.0.0')
    expect(res.headers.get('tus-extension')?.split(',')).toEqual(['creation', 'expiration', 'checksum', 'termination'])
    expect(res.headers.get('tus-checksum-algorithm')).toBe('sha256')
    expect(Number(res.headers.get('tus-max-size'))).toBeGreaterThan(0)
  })

  it('resumes an upload aborted half-way from the offset the server kept, with a new client', async () => {
    let cut = false
    const first = startTus(noise, {
      endpoint,
      metadata: { line: 'L1', filename: 'noise.png' },
      // in PATCHes of an eighth each: cut during the second, the server holds at most two eighths
      // (one PATCH of the whole file could already sit in the socket buffers when the cut comes)
      chunkSize: Math.ceil(noise.length / 8),
      onProgress: (sent) => {
        if (!cut && sent >= noise.length / 4) {
          cut = true
          void first.upload.abort()
        }
      },
    })
    first.done.catch(() => undefined) // an aborted upload never settles; nothing to report
    await waitFor(() => cut && first.upload.url, { what: 'the first client to cut its upload' })
    const url = first.upload.url!
    // the server keeps what arrived and reports it once the cut-off PATCH has ended
    const kept = await waitFor(
      async () => {
        const res = await headUpload(url)
        const offset = Number(res.headers.get('upload-offset'))
        return res.status === 200 && offset > 0 ? offset : undefined
      },
      { what: 'a partial offset' },
    )
    expect(kept).toBeLessThan(noise.length)

    let resumedFrom: number | undefined
    const second = startTus(noise, {
      uploadUrl: url,
      // a PATCH of the first client may still be finishing: 423/409 are retried
      retryDelays: [50, 100, 200, 400, 800, 1600],
      onProgress: (sent) => {
        resumedFrom ??= sent
      },
    })
    await second.done
    expect(resumedFrom).toBeGreaterThanOrEqual(kept)
    const head = await headUpload(url)
    expect(head.headers.get('upload-offset')).toBe(String(noise.length))

    // every byte arrived as sent: PNG checks every chunk (CRC) and its image data (Adler-32),
    // so the inference worker decodes it only if nothing was lost, repeated or flipped
    const id = url.split('/').pop()!
    const job = await waitForJob(server.url, id)
    expect([job.status, job.total, job.done, job.failed]).toEqual(['done', 1, 1, 0])
    const result = job.results.items[0] as { width?: number; height?: number; error?: unknown }
    expect([result.width, result.height, result.error]).toEqual([2900, 2900, undefined])
  }, 180_000)

  it('refuses a chunk whose checksum does not match with 460, keeps the offset, then takes the right one', async () => {
    const data = randomBytes(4096)
    const url = await newUpload(server.url, data.length, { line: 'L1' })
    expect((await patchUpload(url, 0, data.subarray(0, 1000), { 'upload-checksum': sha256(data.subarray(0, 1000)) })).status).toBe(204)
    const bad = await patchUpload(url, 1000, data.subarray(1000), { 'upload-checksum': sha256(Buffer.from('something else')) })
    expect(bad.status).toBe(460)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('checksum_mismatch')
    expect((await headUpload(url)).headers.get('upload-offset')).toBe('1000')
    const good = await patchUpload(url, 1000, data.subarray(1000), { 'upload-checksum': sha256(data.subarray(1000)) })
    expect(good.status).toBe(204)
    expect(good.headers.get('upload-offset')).toBe(String(data.length))
  })

  it('refuses a checksum algorithm it does not offer with 400', async () => {
    const url = await newUpload(server.url, 10, { line: 'L1' })
    const res = await patchUpload(url, 0, Buffer.alloc(10), { 'upload-checksum': `md5 ${Buffer.alloc(16).toString('base64')}` })
    expect(res.status).toBe(400)
    expect((await headUpload(url)).headers.get('upload-offset')).toBe('0')
  })

  it('terminates an upload while tus-js-client is sending it: HEAD answers 404 and its files go', async () => {
    let terminated: Promise<void> | undefined
    const { upload, done } = startTus(noise, {
      endpoint,
      metadata: { line: 'L1' },
      onProgress: (sent) => {
        if (!terminated && sent > 0) terminated = upload.abort(true)
      },
    })
    done.catch(() => undefined) // a terminated upload never settles; nothing to report
    await waitFor(() => terminated !== undefined, { what: 'the client to send and terminate' })
    await terminated
    const url = upload.url!
    const id = url.split('/').pop()!
    expect((await headUpload(url)).status).toBe(404)
    // the PATCH that was cut off may still be finishing its last write: its files go after it
    await waitFor(async () => !(await uploadFiles(server)).some((f) => f.startsWith(id)), { what: 'the terminated upload to leave the disk' })
  })

  it('refuses to terminate an upload that became a job', async () => {
    const data = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#456' } }).jpeg().toBuffer()
    const url = await newUpload(server.url, data.length, { line: 'L1' })
    expect((await patchUpload(url, 0, data)).status).toBe(204)
    await expect(Upload.terminate(url, { headers: authHeaders(url) })).rejects.toThrow(/405/)
    expect((await headUpload(url)).headers.get('upload-offset')).toBe(String(data.length))
  })

  it('gives creation and PATCH replies an Upload-Expires date in the future', async () => {
    const res = await fetch(endpoint, { method: 'POST', headers: { ...TUS, ...authHeaders(endpoint), 'upload-length': '3', 'upload-metadata': `line ${Buffer.from('L1').toString('base64')}` } })
    expect(res.status).toBe(201)
    expect(Date.parse(res.headers.get('upload-expires')!)).toBeGreaterThan(Date.now())
    const patched = await patchUpload(server.url + res.headers.get('location')!, 0, Buffer.from('ab'))
    expect(Date.parse(patched.headers.get('upload-expires')!)).toBeGreaterThan(Date.now())
  })

  it.each([
    ['no Tus-Resumable header', { 'tus-resumable': '' }, 412, 'unsupported_version'],
    ['another protocol version', { 'tus-resumable': '0.2.2' }, 412, 'unsupported_version'],
    ['a content type other than offset+octet-stream', { 'content-type': 'application/json' }, 415, 'unsupported_type'],
    ['no Upload-Offset', { 'upload-offset': '' }, 400, 'missing_upload_offset'],
  ])('answers a PATCH with %s with %i', async (_name, headers, status, code) => {
    const url = await newUpload(server.url, 10, { line: 'L1' })
    const clean = Object.fromEntries(Object.entries({ ...TUS, ...authHeaders(url), 'content-type': 'application/offset+octet-stream', 'upload-offset': '0', ...headers }).filter(([, v]) => v !== ''))
    const res = await fetch(url, { method: 'PATCH', headers: clean, body: Buffer.alloc(10) })
    expect(res.status).toBe(status)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code)
    expect((await headUpload(url)).headers.get('upload-offset')).toBe('0')
  })
})

describe('tus upload expiry', () => {
  let server: RunningServer

  beforeAll(async () => {
    server = await startServer({ env: { UPLOAD_EXPIRES_MS: '1000', UPLOAD_SWEEP_INTERVAL_MS: '100' } })
  }, 120_000)
  afterAll(async () => {
    await server?.stop()
  })

  it('refuses an abandoned upload once it expired and removes its files', async () => {
    const url = await newUpload(server.url, 100, { line: 'L1' })
    const id = url.split('/').pop()!
    const patched = await patchUpload(url, 0, Buffer.alloc(40))
    expect(patched.status).toBe(204)
    const expires = Date.parse(patched.headers.get('upload-expires')!)
    // HEAD does not keep an upload alive (only data does): poll it until the upload is gone
    const gone = await waitFor(
      async () => {
        const res = await headUpload(url)
        return res.status === 200 ? undefined : res.status
      },
      { what: 'the upload to expire', timeoutMs: 15_000 },
    )
    expect([404, 410]).toContain(gone)
    expect(Date.now()).toBeGreaterThanOrEqual(expires)
    const late = await patchUpload(url, 40, Buffer.alloc(60))
    expect([404, 410]).toContain(late.status)
    await waitFor(async () => !(await uploadFiles(server)).some((f) => f.startsWith(id)), { what: 'the sweep to remove the files' })
    expect((await headUpload(url)).status).toBe(404)
  })
})
