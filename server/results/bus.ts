/**
 * Results travel from whoever inferred the frame to whoever serves its station and kiosks.
 * Embedded: an in-process fan-out. Distributed: a RabbitMQ results exchange, each gateway
 * binding its own exclusive queue (server/queue/rabbitmq-results.ts).
 */
import type { InspectionResult } from '../../shared/domain/result.ts'

export interface ResultBus {
  /** Resolves once the result is safely handed on (broker-confirmed in distributed mode). */
  publish(result: InspectionResult): Promise<void>
  subscribe(listener: (result: InspectionResult) => void): () => void
  /**
   * The lines whose results this process needs (those of its connected stations and kiosks).
   * Distributed mode receives only these; a bus without the method delivers every result.
   */
  setInterest?(lines: readonly string[]): Promise<void>
  close(): Promise<void>
}

export class LocalResultBus implements ResultBus {
  readonly #listeners = new Set<(r: InspectionResult) => void>()

  async publish(result: InspectionResult): Promise<void> {
    for (const l of this.#listeners) l(result)
  }

  subscribe(listener: (r: InspectionResult) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async close(): Promise<void> {
    this.#listeners.clear()
  }
}
