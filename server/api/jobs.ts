/**
 * Inspection jobs (one per upload, same id): progress, and the results of their frames as JSON
 * or CSV. Readable by whoever may read the job's line; another line's job answers 404.
 */
import { isId } from '../../shared/domain/ids.ts'
import type { InspectionResult } from '../../shared/domain/result.ts'
import { canUseLine, type Principal } from '../auth/principal.ts'
import type { Core } from '../core.ts'
import { HttpError, badRequest, notFound } from '../errors.ts'
import type { Job, JobStatus } from '../storage/jobs.ts'
import type { UploadInfo } from '../uploads/index.ts'
import { resultsCsv } from './csv.ts'
import { queryCursor, queryLimit, queryLine } from './query.ts'
import { ok, type Route } from './types.ts'

/** Before the job row exists, the upload's state tells where it is. */
export type JobViewStatus = JobStatus | 'receiving' | 'unpacking'

export interface JobView {
  id: string
  line: string
  status: JobViewStatus
  /** Images to inspect; null until the upload was unpacked. */
  total: number | null
  done: number
  failed: number
  createdAt: number
  finishedAt?: number
  createdBy: string
  error?: { code: string; message: string }
  upload?: { filename?: string; bytes: number; received: number; archive?: UploadInfo['archive'] }
  links: { results: string; csv: string }
}

const CSV_MAX_PAGES = 100
const RESULTS_PAGE = 1000

/** The store keeps a failed job's reason as `code: message`. */
function splitError(e: string): { code: string; message: string } {
  const m = /^([a-z_]+): ([\s\S]*)$/.exec(e)
  return m ? { code: m[1]!, message: m[2]! } : { code: 'failed', message: e }
}

export function jobView(id: string, job: Job | null, up: UploadInfo | undefined): JobView | null {
  if (!job && !up) return null
  const links = { results: `/api/v1/jobs/${id}/results`, csv: `/api/v1/jobs/${id}/results?format=csv` }
  const upload = up ? { ...(up.filename ? { filename: up.filename } : {}), bytes: up.length, received: up.offset, ...(up.archive ? { archive: up.archive } : {}) } : undefined
  if (job) {
    const v: JobView = { id, line: job.line, status: job.status, total: job.total, done: job.done, failed: job.failed, createdAt: job.createdAt, createdBy: job.createdBy, links }
    if (job.finishedAt !== undefined) v.finishedAt = job.finishedAt
    if (job.error !== undefined) v.error = splitError(job.error)
    if (upload) v.upload = upload
    return v
  }
  const info = up!
  const status: JobViewStatus = info.state === 'receiving' ? 'receiving' : info.state === 'failed' ? 'failed' : info.state === 'received' || info.state === 'unpacking' ? 'unpacking' : 'queued'
  const v: JobView = { id, line: info.line, status, total: null, done: 0, failed: 0, createdAt: info.createdAt, createdBy: info.createdBy, links, upload: upload! }
  if (info.error) v.error = info.error
  return v
}

export function jobRoutes(core: Core): Route[] {
  // read when a request comes: building the route table needs no store (the authz test lists it)
  const jobsStore = () => core.store.jobs
  const idParam = (v: string | undefined) => {
    if (!v || !isId(v)) throw badRequest('job id must be an id', 'bad_job_id')
    return v
  }
  const load = async (p: Principal, id: string): Promise<JobView> => {
    const job = await jobsStore().get(id)
    const view = jobView(id, job && canUseLine(p, job.line) ? job : null, await core.uploads?.describe(p, id))
    if (!view) throw notFound(`no job ${id}`)
    return view
  }
  const page = (q: URLSearchParams) => {
    const cursor = queryCursor(q)
    return { limit: queryLimit(q) ?? 100, ...(cursor ? { cursor } : {}) }
  }

  return [
    {
      method: 'get',
      pattern: '/api/v1/jobs',
      access: 'read',
      handler: async (ctx) => {
        const line = queryLine(ctx.query)
        const status = ctx.query.get('status')
        if (status !== null && !['queued', 'running', 'done', 'failed'].includes(status)) throw badRequest('"status" must be queued, running, done or failed', 'bad_status')
        const { limit, cursor } = page(ctx.query)
        const p = ctx.principal
        const list = await jobsStore()
          .list({
            ...(line !== undefined ? { line } : {}),
            ...(p.lines !== '*' ? { lines: p.lines } : {}),
            ...(status !== null ? { status: status as JobStatus } : {}),
            limit: Math.min(limit, 500),
            ...(cursor ? { cursor } : {}),
          })
        const registry = core.uploads
        const uploads = registry ? await Promise.all(list.items.map((j) => registry.describe(p, j.id))) : []
        return ok({ items: list.items.map((j, i) => jobView(j.id, j, uploads[i])), ...(list.nextCursor ? { nextCursor: list.nextCursor } : {}) })
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/jobs/:id',
      access: 'read',
      handler: async (ctx) => {
        const view = await load(ctx.principal, idParam(ctx.params.id))
        const results = await core.store.query({ jobId: view.id, limit: 100 })
        return ok({ ...view, results })
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/jobs/:id/results',
      access: 'read',
      handler: async (ctx) => {
        const view = await load(ctx.principal, idParam(ctx.params.id))
        const format = ctx.query.get('format') ?? 'json'
        if (format === 'json') return ok(await core.store.query({ jobId: view.id, ...page(ctx.query) }))
        if (format !== 'csv') throw badRequest('"format" must be json or csv', 'bad_format')
        const items: InspectionResult[] = []
        let cursor: string | undefined
        let more = true
        for (let n = 0; n < CSV_MAX_PAGES && more; n++) {
          const p = await core.store.query({ jobId: view.id, limit: RESULTS_PAGE, ...(cursor ? { cursor } : {}) })
          items.push(...p.items)
          cursor = p.nextCursor
          more = cursor !== undefined
        }
        if (more) throw new HttpError(413, 'too_many_results', `more than ${CSV_MAX_PAGES * RESULTS_PAGE} results; page through the JSON instead`)
        // lists are newest first; a job's report reads in archive order
        items.reverse()
        return {
          status: 200,
          headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="job-${view.id}.csv"` },
          body: resultsCsv(items),
        }
      },
    },
  ]
}
