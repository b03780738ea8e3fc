/**
 * Candidate models per line (admin):
 *  - `GET /api/v1/admin/lines/:line/candidate`: the line's model, candidate and previous model;
 *    agreement of the two over the latest COMPARISON_LIMIT shadow frames, per class; precision,
 *    recall and AP@0.5 of both on the reviewed ones.
 *  - `PUT /api/v1/admin/lines/:line/candidate` `{"model", "share"}` (share in (0, 1]): run it in
 *    shadow on that share of the line's frames. Its classes must be the current model's
 *    (`server/candidates/check.ts`, the same check the line-settings PUT makes).
 *  - `DELETE .../candidate`: discard. `POST .../candidate/promote`: the candidate becomes the
 *    line's model and the current one is kept as `previousModel`, in one settings write (each
 *    frame reads the line's model once, when it is inferred, so no frame is lost or inferred
 *    twice by the deciding model). `POST /api/v1/admin/lines/:line/rollback`: back to
 *    `previousModel`. Every change is audited.
 */
import { z } from 'zod'
import type { LineSettings } from '../../shared/domain/line-settings.ts'
import { matchDetections } from '../../shared/inference/match.ts'
import { describePrincipal } from '../auth/principal.ts'
import { checkCandidate, detectorManifest } from '../candidates/check.ts'
import { compareOnReviewed } from '../candidates/compare.ts'
import type { Core } from '../core.ts'
import { HttpError, badRequest } from '../errors.ts'
import { ok, type RequestContext, type Route } from './types.ts'
import { lineParam } from './query.ts'

const CandidateInput = z.strictObject({ model: z.string().min(1).max(64), share: z.number().gt(0).max(1) })

function lineOf(ctx: RequestContext): string {
  return lineParam(ctx.params.line)
}

export function candidateRoutes(core: Core): Route[] {
  const lookup = (name: string) => core.models.get(name)
  const detector = (name: string) => detectorManifest(lookup, name)
  const change = async (ctx: RequestContext, line: string, action: string, patch: Partial<LineSettings>): Promise<LineSettings> => {
    const before = core.settings.get(line)
    const actor = describePrincipal(ctx.principal)
    const after = await core.settings.update(line, patch, actor)
    await core.store.audit.append({ actor, action, target: line, before: { model: before.model, candidate: before.candidate ?? null, previousModel: before.previousModel ?? null }, after: { model: after.model, candidate: after.candidate ?? null, previousModel: after.previousModel ?? null } })
    return after
  }
  return [
    {
      method: 'get',
      pattern: '/api/v1/admin/lines/:line/candidate',
      access: 'admin',
      handler: async (ctx) => {
        const line = lineOf(ctx)
        const s = core.settings.get(line)
        const c = s.candidate
        if (!c) return ok({ line, model: s.model, previousModel: s.previousModel ?? null, candidate: null })
        const classes = detector(s.model).classes
        const recent = await core.store.candidates.recent(line, c.model)
        const byClass = classes.map((cls) => {
          let matched = 0
          let currentOnly = 0
          let candidateOnly = 0
          for (const f of recent) {
            const m = matchDetections(f.current.detections.filter((d) => d.class === cls), f.candidate.filter((d) => d.class === cls))
            matched += m.matched
            currentOnly += m.onlyA
            candidateOnly += m.onlyB
          }
          const all = matched + currentOnly + candidateOnly
          return { class: cls, matched, currentOnly, candidateOnly, agreement: all ? matched / all : null }
        })
        return ok({
          line,
          model: s.model,
          previousModel: s.previousModel ?? null,
          candidate: c,
          versions: await core.store.candidates.agreement(line, c.model),
          agreement: { frames: recent.length, byClass },
          reviewed: compareOnReviewed(classes, await core.store.candidates.reviewed(line, c.model)),
        })
      },
    },
    {
      method: 'put',
      pattern: '/api/v1/admin/lines/:line/candidate',
      access: 'admin',
      bodyLimit: 4096,
      handler: async (ctx) => {
        const line = lineOf(ctx)
        let body: unknown
        try {
          body = JSON.parse(new TextDecoder().decode(ctx.body))
        } catch {
          throw badRequest('the body must be JSON: {"model": name, "share": 0-1}', 'bad_json')
        }
        const parsed = CandidateInput.safeParse(body)
        if (!parsed.success) throw badRequest(`expected {"model": name, "share": number in (0, 1]}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, 'invalid_candidate')
        checkCandidate(lookup, core.settings.get(line).model, parsed.data.model)
        return ok(await change(ctx, line, 'candidate.set', { candidate: parsed.data }))
      },
    },
    {
      method: 'del',
      pattern: '/api/v1/admin/lines/:line/candidate',
      access: 'admin',
      handler: async (ctx) => {
        const line = lineOf(ctx)
        if (!core.settings.get(line).candidate) throw new HttpError(404, 'no_candidate', `line ${line} has no candidate`)
        return ok(await change(ctx, line, 'candidate.discard', { candidate: undefined }))
      },
    },
    {
      method: 'post',
      pattern: '/api/v1/admin/lines/:line/candidate/promote',
      access: 'admin',
      handler: async (ctx) => {
        const line = lineOf(ctx)
        const s = core.settings.get(line)
        if (!s.candidate) throw new HttpError(404, 'no_candidate', `line ${line} has no candidate to promote`)
        detector(s.candidate.model)
        return ok(await change(ctx, line, 'candidate.promote', { model: s.candidate.model, previousModel: s.model, candidate: undefined }))
      },
    },
    {
      method: 'post',
      pattern: '/api/v1/admin/lines/:line/rollback',
      access: 'admin',
      handler: async (ctx) => {
        const line = lineOf(ctx)
        const s = core.settings.get(line)
        if (!s.previousModel) throw new HttpError(404, 'no_previous_model', `line ${line} has no previous model to roll back to`)
        detector(s.previousModel)
        return ok(await change(ctx, line, 'model.rollback', { model: s.previousModel, previousModel: s.model, candidate: undefined }))
      },
    },
  ]
}
