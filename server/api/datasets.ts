/**
 * `GET /api/v1/datasets/yolo?line=&from=&to=` (admin): the line's reviewed frames captured in
 * [from, to) as an Ultralytics dataset zip, streamed (server/datasets/yolo-zip.ts). `line` is
 * required; `from`/`to` are ms since the epoch or ISO dates, both optional; the classes are those
 * of the model the line runs now.
 */
import type { Core } from '../core.ts'
import { HttpError, badRequest } from '../errors.ts'
import { yoloDatasetZip } from '../datasets/yolo-zip.ts'
import { lineParam, queryTime } from './query.ts'
import type { Route } from './types.ts'

export function datasetRoutes(core: Core): Route[] {
  return [
    {
      method: 'get',
      pattern: '/api/v1/datasets/yolo',
      access: 'admin',
      handler: (ctx) => {
        const line = lineParam(ctx.query.get('line'))
        const from = queryTime(ctx.query, 'from')
        const to = queryTime(ctx.query, 'to')
        if (from !== undefined && to !== undefined && to <= from) throw badRequest('"to" must be after "from"', 'bad_range')
        const model = core.settings.get(line).model
        const m = core.models.get(model)?.manifest
        if (!m || m.task !== 'detect') throw new HttpError(409, 'unknown_model', `line ${line} runs model ${model}, which is not in the models folder; its classes are unknown`)
        const stream = yoloDatasetZip(
          { reviews: core.store.reviews, results: core.store },
          { line, model: `${m.name}@${m.version}`, classes: m.classes, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) },
        )
        return {
          status: 200,
          headers: { 'content-type': 'application/zip', 'content-disposition': `attachment; filename="linesight-${line}-yolo.zip"`, 'cache-control': 'no-store' },
          stream,
        }
      },
    },
  ]
}
