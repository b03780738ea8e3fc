/**
 * Part tracking's contract (server/parts/contract.ts) for tests of what consumes it: an
 * in-process source of closed parts, and a trigger sink that records every call. Both are ours,
 * not an external system; the brokers, clients and receivers the tests talk to are real.
 */
import type { PartRecord } from '../../shared/domain/part.ts'
import type { PartEvents, PartTrigger, TriggerRequest } from '../../server/parts/contract.ts'

export class PartEmitter implements PartEvents {
  readonly #listeners = new Set<(p: PartRecord) => void>()

  onPartClosed(listener: (part: PartRecord) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  close(part: PartRecord): void {
    for (const l of this.#listeners) l(part)
  }
}

export class RecordingTrigger implements PartTrigger {
  readonly calls: TriggerRequest[] = []
  #next = 0

  async trigger(request: TriggerRequest): Promise<{ partId: string }> {
    this.calls.push(request)
    return { partId: request.partId ?? `seq-${++this.#next}` }
  }
}

let n = 0
export function closedPart(over: Partial<PartRecord> = {}): PartRecord {
  const i = ++n
  const verdict = over.verdict ?? (i % 3 === 0 ? 'fail' : 'pass')
  const frames = over.frames ?? [`f-${process.pid}-${i}-a`, `f-${process.pid}-${i}-b`]
  return {
    partId: `P-${process.pid}-${i}`,
    line: 'L1',
    station: 'S1',
    verdict,
    frames,
    defects: verdict === 'fail' ? [{ classId: 0, class: 'scratch', score: 0.91, box: [10, 20, 30, 40], frameId: frames[1]! }] : [],
    openedAt: Date.now() - 500,
    closedAt: Date.now(),
    closedBy: 'passage',
    idSource: 'trigger',
    ...over,
  }
}
