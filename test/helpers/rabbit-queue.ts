/**
 * A RabbitQueue for the integration tests, with small limits and the errors it reports collected
 * (so a test can assert on them) instead of printed.
 */
import { FsBlobStore } from '../../server/queue/blobs.ts'
import { RabbitQueue, type RabbitQueueOptions } from '../../server/queue/rabbitmq.ts'
import type { TestVhost } from './rabbit-vhost.ts'

export interface TestQueue {
  queue: RabbitQueue
  options: RabbitQueueOptions
  /** `context: message` of every error the queue reported. */
  errors: string[]
}

export async function testQueue(vhost: TestVhost, blobDir: string, overrides: Partial<RabbitQueueOptions> & { prefix: string }): Promise<TestQueue> {
  const errors: string[] = []
  const options: RabbitQueueOptions = {
    url: vhost.url,
    maxLength: { live: 100, batch: 100 },
    deliveryLimit: 3,
    deadLetterMax: 100,
    liveTtlMs: 60_000,
    inlineMaxBytes: 1024 * 1024,
    blobs: new FsBlobStore(blobDir),
    publishTimeoutMs: 10_000,
    connectionName: `linesight test ${overrides.prefix}`,
    onError: (err, context) => errors.push(`${context}: ${err instanceof Error ? `${(err as { code?: string }).code ?? err.name} ${err.message}` : String(err)}`),
    ...overrides,
  }
  return { queue: await RabbitQueue.connect(options), options, errors }
}
