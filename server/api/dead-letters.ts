/**
 * Administration of dead letters: frames the queue gave up on (delivery limit, expired, rejected),
 * listed with why, requeued as new frames or discarded. The same routes serve the embedded queue
 * and RabbitMQ: they only speak the FrameQueue contract (server/queue/types.ts).
 *
 * A dead letter was already recorded as an error result when it died (server/app.ts), and the
 * store keeps the first record of a frame: a requeued frame that then succeeds reaches its
 * station and kiosks live, while the stored record stays the error.
 */
import { isId } from '../../shared/domain/ids.ts'
import { describePrincipal } from '../auth/principal.ts'
import type { Core } from '../core.ts'
import { HttpError, badRequest, notFound } from '../errors.ts'
import { QueueFullError, type DeadLetter } from '../queue/types.ts'
import { queryLimit } from './query.ts'
import { ok, type RequestContext, type Route } from './types.ts'

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 1000

/** What the admin sees of a dead letter: its story, never its bytes. */
export interface DeadLetterView {
  id: string
  line: string
  station: string
  priority: DeadLetter['priority']
  reason: string
  error?: string
  source?: string
  jobId?: string
  capturedAt?: number
  deadAt: number
  ageMs: number
  bytes: number
}

function view(d: DeadLetter, now: number): DeadLetterView {
  const h = d.message.headers
  const str = (k: string) => (typeof h[k] === 'string' ? (h[k] as string) : undefined)
  const out: DeadLetterView = {
    id: d.message.id,
    line: str('line') ?? 'unknown',
    station: str('station') ?? 'unknown',
    priority: d.priority,
    reason: String(d.reason),
    deadAt: d.deadAt,
    ageMs: Math.max(0, now - d.deadAt),
    bytes: d.message.body.byteLength,
  }
  if (d.error !== undefined) out.error = d.error
  const source = str('source')
  if (source) out.source = source
  const jobId = str('jobId')
  if (jobId) out.jobId = jobId
  if (typeof h.capturedAt === 'number') out.capturedAt = h.capturedAt
  return out
}

function idParam(ctx: RequestContext): string {
  const id = ctx.params.id ?? ''
  if (!isId(id)) throw badRequest('the dead letter id must be a frame id (1-64 of A-Z a-z 0-9 . _ : -)', 'bad_id')
  return id
}

export function deadLetterRoutes(core: Core): Route[] {
  /**
   * The dead letter's story before it changes, for the audit entry; undefined when absent. On
   * RabbitMQ this reads every kept dead letter once more (bounded by QUEUE_DEAD_LETTER_MAX): an
   * administrator's click, not a hot path.
   */
  const find = async (id: string) => {
    const d = (await core.queue.listDeadLetters(core.config.queueDeadLetterMax)).find((x) => x.message.id === id)
    return d && view(d, Date.now())
  }
  const audit = (ctx: RequestContext, action: string, id: string, before: DeadLetterView | undefined, after: unknown) =>
    core.store.audit.append({ actor: describePrincipal(ctx.principal), action, target: `dead-letter:${id}`, before: before ? { reason: before.reason, error: before.error, line: before.line, station: before.station, deadAt: before.deadAt } : null, after })

  return [
    {
      method: 'get',
      pattern: '/api/v1/admin/dead-letters',
      access: 'admin',
      handler: async (ctx) => {
        const limit = ctx.query.get('limit') === '' ? DEFAULT_LIMIT : (queryLimit(ctx.query, MAX_LIMIT) ?? DEFAULT_LIMIT)
        const [list, depth] = await Promise.all([core.queue.listDeadLetters(limit), core.queue.depth()])
        const now = Date.now()
        return ok({ queue: core.queue.kind, kept: depth.deadLetters, ...(depth.deadLettersEvicted !== undefined ? { evicted: depth.deadLettersEvicted } : {}), deadLetters: list.map((d) => view(d, now)) })
      },
    },
    {
      method: 'post',
      pattern: '/api/v1/admin/dead-letters/:id/requeue',
      access: 'admin',
      handler: async (ctx) => {
        const id = idParam(ctx)
        const before = await find(id)
        let requeued: boolean
        try {
          requeued = await core.queue.requeueDeadLetter(id)
        } catch (err) {
          if (err instanceof QueueFullError) throw new HttpError(503, 'busy', `${err.message}; the dead letter stays where it is`, { headers: { 'retry-after': '5' } })
          throw err
        }
        if (!requeued) throw notFound(`no dead letter ${id}`)
        await audit(ctx, 'dead-letter.requeue', id, before, { requeued: true })
        core.log.info({ frameId: id, reason: before?.reason }, 'dead letter requeued by an administrator')
        return ok({ id, requeued: true })
      },
    },
    {
      method: 'del',
      pattern: '/api/v1/admin/dead-letters/:id',
      access: 'admin',
      handler: async (ctx) => {
        const id = idParam(ctx)
        const before = await find(id)
        if (!(await core.queue.discardDeadLetter(id))) throw notFound(`no dead letter ${id}`)
        await audit(ctx, 'dead-letter.discard', id, before, { discarded: true })
        core.log.info({ frameId: id, reason: before?.reason }, 'dead letter discarded by an administrator')
        return ok({ id, discarded: true })
      },
    },
  ]
}
