/**
 * tus uploads across gateways: two gateway processes behind no affinity, one worker, RabbitMQ,
 * the shared store (PostgreSQL when DATABASE_URL is set) and one upload volume (UPLOAD_DIR). A
 * client that changes gateway half-way through an upload, and a gateway killed while it is
 * receiving one, both end with the whole archive inspected.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeZip } from '../../test/fixtures/archives.ts'
import { bearer, encodeMetadata, startTus, TUS, waitForJob } from '../../test/helpers/tus.ts'
import { amqpUrl, createCluster, noteSkip, type Cluster } from '../helpers/broker.ts'
import { ROOT, type RunningServer } from '../helpers/server.ts'
import { waitFor } from '../helpers/wait.ts'

noteSkip('distributed-uploads')

const SAMPLES = join(ROOT, 'models/samples')
const archive = makeZip(
  readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.jpg'))
    .sort()
    .slice(0, 3)
    .map((name) => ({ name, data: readFileSync(join(SAMPLES, name)) })),
)

describe.skipIf(!amqpUrl)('a tus upload across two gateways', () => {
  let cluster: Cluster
  let uploadDir: string
  let a: RunningServer
  let b: RunningServer
  beforeAll(async () => {
    uploadDir = await mkdtemp(join(tmpdir(), 'linesight-upload-volume-'))
    // a short lease, so the test of a dead gateway does not wait the default 30 s
    cluster = await createCluster({ UPLOAD_DIR: uploadDir, UPLOAD_LOCK_MS: '1500' })
    a = await cluster.gateway()
    b = await cluster.gateway()
    await cluster.worker()
  }, 300_000)
  afterAll(async () => {
    await cluster?.teardown()
    if (uploadDir) await rm(uploadDir, { recursive: true, force: true })
  })

  it('finishes through the second gateway an upload tus-js-client began through the first', { timeout: 300_000 }, async () => {
    const auth = bearer(a.adminToken)
    const chunkSize = Math.ceil(archive.length / 4)
    // the first gateway takes the creation and one chunk; then the client is cut off from it
    const first = startTus(archive, {
      endpoint: `${a.url}/api/v1/uploads`,
      metadata: { line: 'L-switch', filename: 'switch.zip' },
      headers: auth,
      chunkSize,
      retryDelays: [],
      onChunkComplete: () => void first.upload.abort(),
    })
    await waitFor(() => first.upload.url !== null && (first.upload as unknown as { _offset: number })._offset >= chunkSize, { timeoutMs: 60_000, what: 'the first chunk through gateway A' })
    const id = first.upload.url!.split('/').pop()!

    const head = await fetch(`${b.url}/api/v1/uploads/${id}`, { method: 'HEAD', headers: { ...TUS, ...auth } })
    expect(head.status).toBe(200)
    expect(Number(head.headers.get('upload-offset'))).toBe(chunkSize)

    // the same client resumes against the other gateway: it asks B where to go on from
    const second = startTus(archive, { uploadUrl: `${b.url}/api/v1/uploads/${id}`, headers: auth, chunkSize, retryDelays: [0, 200, 500, 1000] })
    await second.done
    const job = await waitForJob(a.url, id, a.adminToken, 240_000)
    expect([job.status, job.total, job.done, job.failed]).toEqual(['done', 3, 3, 0])
  })

  it('is taken over by the other gateway when the one receiving it is killed mid-PATCH', { timeout: 300_000 }, async () => {
    const doomed = await cluster.gateway()
    const auth = bearer(doomed.adminToken)
    const created = await fetch(`${doomed.url}/api/v1/uploads`, {
      method: 'POST',
      headers: { ...TUS, ...auth, 'upload-length': String(archive.length), 'upload-metadata': encodeMetadata({ line: 'L-killed', filename: 'killed.zip' }) },
    })
    expect(created.status).toBe(201)
    const id = created.headers.get('location')!.split('/').pop()!

    // a PATCH that sends half the archive and then hangs, as a client on a slow link would
    const half = Math.floor(archive.length / 2)
    const url = new URL(doomed.url)
    const patch = request({
      host: url.hostname,
      port: url.port,
      method: 'PATCH',
      path: `/api/v1/uploads/${id}`,
      headers: { ...TUS, ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': '0', 'content-length': String(archive.length) },
    })
    patch.on('error', () => undefined)
    patch.write(archive.subarray(0, half))
    // the receiving gateway shares its progress while it writes: the other one sees it
    const seen = await waitFor(
      async () => {
        const res = await fetch(`${b.url}/api/v1/uploads/${id}`, { method: 'HEAD', headers: { ...TUS, ...auth } })
        const offset = Number(res.headers.get('upload-offset'))
        return offset > 0 ? offset : undefined
      },
      { timeoutMs: 60_000, what: 'gateway B to see the bytes gateway A received' },
    )
    expect(seen).toBeLessThanOrEqual(half)
    // meanwhile the upload is the receiving gateway's alone
    const busy = await fetch(`${b.url}/api/v1/uploads/${id}`, { method: 'PATCH', headers: { ...TUS, ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(seen) }, body: new Uint8Array(archive.subarray(seen)) })
    expect([423, 409]).toContain(busy.status)

    await doomed.kill()
    patch.destroy()

    // once the dead gateway's lease runs out, B takes the rest from the offset it reports
    await waitFor(
      async () => {
        const res = await fetch(`${b.url}/api/v1/uploads/${id}`, { method: 'HEAD', headers: { ...TUS, ...auth } })
        const offset = Number(res.headers.get('upload-offset'))
        const put = await fetch(`${b.url}/api/v1/uploads/${id}`, {
          method: 'PATCH',
          headers: { ...TUS, ...auth, 'content-type': 'application/offset+octet-stream', 'upload-offset': String(offset) },
          body: new Uint8Array(archive.subarray(offset)),
        })
        if (put.status === 423 || put.status === 409) return undefined
        expect(put.status).toBe(204)
        return true
      },
      { timeoutMs: 60_000, what: 'gateway B to take the upload over' },
    )
    const job = await waitForJob(b.url, id, b.adminToken, 240_000)
    expect([job.status, job.total, job.done, job.failed]).toEqual(['done', 3, 3, 0])
  })
})
