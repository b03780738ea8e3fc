/**
 * The frame queue and the result bus: embedded (in-process) by default, RabbitMQ when AMQP_URL
 * is set. Both implement the same contracts (server/queue/types.ts, server/results/bus.ts).
 */
import type { Config } from '../config/index.ts'
import type { Logger } from '../log.ts'
import { EmbeddedQueue, embeddedOptionsFromConfig } from '../queue/embedded.ts'
import { RabbitQueue, rabbitOptionsFromConfig } from '../queue/rabbitmq.ts'
import type { FrameQueue } from '../queue/types.ts'
import { LocalResultBus, type ResultBus } from '../results/bus.ts'
import { RabbitResultBus, resultBusOptionsFromConfig } from '../results/rabbitmq-bus.ts'

export async function openQueue(config: Config, log: Logger): Promise<{ queue: FrameQueue; bus: ResultBus }> {
  const onError = (err: unknown, context: string) => log.error({ err: String(err), context }, 'queue error')
  if (!config.amqpUrl) {
    return { queue: new EmbeddedQueue({ ...embeddedOptionsFromConfig(config), onError }), bus: new LocalResultBus() }
  }
  const queue = await RabbitQueue.connect({ ...rabbitOptionsFromConfig(config), onError })
  const bus = new RabbitResultBus({ ...resultBusOptionsFromConfig(config), onError })
  log.info({ url: config.amqpUrl.replace(/\/\/[^@]*@/, '//***@') }, 'connected to RabbitMQ')
  return { queue, bus }
}
