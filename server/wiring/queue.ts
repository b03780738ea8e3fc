/**
 * The frame queue and the result bus: embedded (in-process) by default, RabbitMQ when AMQP_URL
 * is set. Both implement the same contracts (server/queue/types.ts, server/results/bus.ts).
 */
import type { Config } from '../config/index.ts'
import type { Logger } from '../log.ts'
import { existsSync, renameSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { EmbeddedQueue, embeddedOptionsFromConfig } from '../queue/embedded.ts'
import { QueueJournal } from '../queue/journal.ts'
import { RabbitQueue, rabbitOptionsFromConfig } from '../queue/rabbitmq.ts'
import type { FrameQueue } from '../queue/types.ts'
import { LocalResultBus, type ResultBus } from '../results/bus.ts'
import { RabbitResultBus, resultBusOptionsFromConfig } from '../results/rabbitmq-bus.ts'

const BLOB_MAX_AGE_MS = 24 * 3600_000
/** The embedded queue's journal, in the data folder (server/queue/journal.ts). */
export const JOURNAL_FILE = 'queue-journal.db'

export async function openQueue(config: Config, log: Logger): Promise<{ queue: FrameQueue; bus: ResultBus }> {
  const onError = (err: unknown, context: string) => log.error({ err: String(err), context }, 'queue error')
  if (!config.amqpUrl) {
    // accepted frames outlive this process (a kill, a crash): replayed by the next one
    const file = join(resolve(config.dataDir), JOURNAL_FILE)
    const open = () => new EmbeddedQueue({ ...embeddedOptionsFromConfig(config), onError, journal: new QueueJournal(file, onError) })
    let queue: EmbeddedQueue
    try {
      queue = open()
    } catch (err) {
      // a journal that does not open (a power cut, see journal.ts) must not keep the line down: kept aside for a look
      const aside = `${file}.unreadable-${Date.now()}`
      for (const suffix of ['', '-wal', '-shm']) renameIfThere(file + suffix, aside + suffix)
      log.error({ err: String(err), movedTo: aside }, 'the queue journal could not be read; moved aside, starting without its frames')
      queue = open()
    }
    if (queue.replayed > 0) log.info({ frames: queue.replayed, file }, 'replaying frames accepted before the last stop')
    return { queue, bus: new LocalResultBus() }
  }
  const options = rabbitOptionsFromConfig(config)
  const queue = await RabbitQueue.connect({ ...options, onError })
  const bus = new RabbitResultBus({ ...resultBusOptionsFromConfig(config), onError })
  // Blobs of frames whose publisher crashed, or whose dead letter the broker evicted, have no
  // consumer left to delete them: sweep anything older than a day, hourly.
  const sweep = setInterval(() => {
    options.blobs.sweep(BLOB_MAX_AGE_MS).then(
      (n) => n && log.info({ removed: n }, 'swept orphaned queue blobs'),
      (err: unknown) => log.warn({ err: String(err) }, 'queue blob sweep failed'),
    )
  }, 3600_000)
  sweep.unref()
  log.info({ url: config.amqpUrl.replace(/\/\/[^@]*@/, '//***@') }, 'connected to RabbitMQ')
  return { queue, bus }
}

function renameIfThere(from: string, to: string): void {
  if (existsSync(from)) renameSync(from, to)
}
