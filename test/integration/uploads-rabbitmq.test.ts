/**
 * Upload jobs in the distributed setup: a gateway process takes the upload and feeds RabbitMQ, a
 * separate worker process inspects, records and counts the frames. Every image is over the
 * queue's inline limit here, so each one travels through the blob store. Needs AMQP_URL.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestVhost, type TestVhost } from '../helpers/rabbit-vhost.ts'
import { makeZip } from '../fixtures/archives.ts'
import { tusUpload, waitForJob } from '../helpers/tus.ts'
import { ROOT, startServer, type RunningServer } from '../helpers/server.ts'

const amqpUrl = process.env.AMQP_URL
if (!amqpUrl) console.warn('uploads-rabbitmq: AMQP_URL is not set; skipping the distributed upload tests')

const SAMPLES = join(ROOT, 'models/samples')
const images = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.jpg'))
  .sort()
  .map((name) => ({ name, data: readFileSync(join(SAMPLES, name)) }))

describe.skipIf(!amqpUrl)('upload jobs over RabbitMQ, gateway and worker apart', () => {
  let vhost: TestVhost
  let dataDir: string
  let gateway: RunningServer
  let worker: RunningServer

  beforeAll(async () => {
    vhost = await createTestVhost(amqpUrl!)
    dataDir = await mkdtemp(join(tmpdir(), 'linesight-uploads-amqp-'))
    // one data folder: the SQLite store and the blob store are shared, as a volume would be
    const env = { AMQP_URL: vhost.url, QUEUE_INLINE_MAX_BYTES: '1024' }
    worker = await startServer({ role: 'worker', dataDir, env })
    gateway = await startServer({ role: 'gateway', dataDir, env })
  }, 180_000)

  afterAll(async () => {
    await gateway?.stop()
    await worker?.stop()
    await vhost?.drop()
    if (dataDir) await rm(dataDir, { recursive: true, force: true })
  })

  it('inspects every image of a zip, counted once each by the worker that recorded it', async () => {
    expect(images.every((i) => i.data.length > 1024)).toBe(true)
    const truncated = images[0]!.data.subarray(0, Math.floor(images[0]!.data.length / 3))
    const id = await tusUpload(gateway.url, makeZip([...images, { name: 'truncated.jpg', data: truncated }]), { line: 'L1' })
    const job = await waitForJob(gateway.url, id, undefined, 240_000)
    expect([job.status, job.total, job.done, job.failed]).toEqual(['done', images.length + 1, images.length, 1])
    const res = await gateway.admin(`/api/v1/jobs/${id}/results?limit=1000`)
    const { items } = (await res.json()) as { items: { frameId: string; jobId: string; error?: { code: string } }[] }
    // one record per frame: the truncated image's is an error result
    expect(items.map((r) => r.frameId).sort()).toEqual([...images, null].map((_, i) => `${id}-${i}`).sort())
    expect(items.filter((r) => r.error).map((r) => r.frameId)).toEqual([`${id}-${images.length}`])
  }, 300_000)
})
