/**
 * The FrameQueue contract suite (test/contracts/queue.ts) against a real RabbitMQ, in a
 * vhost of its own, each test with its own topology prefix.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe } from 'vitest'
import { FsBlobStore } from '../../server/queue/blobs.ts'
import { queueContract } from '../contracts/queue.ts'
import { RabbitQueue } from '../../server/queue/rabbitmq.ts'
import { createTestVhost, type TestVhost } from '../helpers/rabbit-vhost.ts'

const amqpUrl = process.env.AMQP_URL
if (!amqpUrl) console.warn('[queue-rabbitmq] AMQP_URL is not set: the RabbitMQ contract suite is skipped')

describe.skipIf(!amqpUrl)('RabbitMQ frame queue', () => {
  let vhost: TestVhost
  let blobDir: string
  let n = 0
  beforeAll(async () => {
    vhost = await createTestVhost(amqpUrl as string)
    blobDir = await mkdtemp(join(tmpdir(), 'linesight-queue-blobs-'))
  })
  afterAll(async () => {
    await vhost?.drop()
    if (blobDir) await rm(blobDir, { recursive: true, force: true })
  })

  queueContract('rabbitmq', (opts) =>
    RabbitQueue.connect({
      ...opts,
      url: vhost.url,
      prefix: `contract-${++n}`,
      deadLetterMax: 100,
      inlineMaxBytes: 1024 * 1024,
      blobs: new FsBlobStore(blobDir),
      publishTimeoutMs: 10_000,
      connectionName: `linesight contract test ${n}`,
    }),
  )
})
