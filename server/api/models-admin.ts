/**
 * Model versions for administrators: what serves, what drains, and loading a new version of a
 * model folder (verified, warmed up, swapped in atomically; a failure leaves the old one serving).
 */
import { describePrincipal } from '../auth/principal.ts'
import type { Core } from '../core.ts'
import { HttpError } from '../errors.ts'
import { ModelLoadError } from '../inference/types.ts'
import { addModelBytes, AddModelError, MAX_MODEL_BYTES, splitList } from '../models/add-model.ts'
import { json, ok, type Route } from './types.ts'


export function modelAdminRoutes(core: Core): Route[] {
  const engine = () => {
    if (!core.engine) throw new HttpError(409, 'no_inference', 'this process runs no inference (LINESIGHT_ROLE=gateway); reload on the workers')
    return core.engine
  }
  // a candidate in shadow runs the new version too; its engine loads nothing it does not already serve
  const reloadCandidate = async (name: string) => {
    const c = core.candidateEngine
    if (!c?.models().some((m) => m.name === name)) return
    await c.reload(name).catch((err: unknown) => core.log.warn({ err, model: name }, 'the candidate workers kept the previous version'))
  }
  return [
    {
      method: 'get',
      pattern: '/api/v1/admin/models',
      access: 'admin',
      handler: () => ok({ versions: engine().versions(), catalogErrors: core.models.errors }),
    },
    {
      // `npm run models:add` over HTTP: the body is the .onnx file (application/octet-stream, at
      // most MAX_MODEL_BYTES); the query takes the command's options:
      // ?filename=best.onnx&name=&version=&classes=a,b&defects=a&replace=true
      method: 'post',
      pattern: '/api/v1/admin/models',
      access: 'admin',
      bodyLimit: MAX_MODEL_BYTES,
      handler: async (ctx) => {
        const type = (ctx.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
        if (type !== 'application/octet-stream') throw new HttpError(415, 'unsupported_type', 'send the .onnx file as application/octet-stream')
        if (ctx.body.length === 0) throw new HttpError(422, 'empty', 'the body is empty: send the .onnx file')
        const q = ctx.query
        const filename = q.get('filename') ?? 'model.onnx'
        if (!/^[^/\\\0]{1,255}$/.test(filename)) throw new HttpError(400, 'bad_filename', 'filename: a plain file name (no path)')
        const classes = splitList(q.get('classes'))
        const defectClasses = splitList(q.get('defects'))
        let added
        try {
          added = await addModelBytes(filename, ctx.body, core.config.modelsDir, {
            ...(q.get('name') ? { name: q.get('name')! } : {}),
            ...(q.get('version') ? { version: q.get('version')! } : {}),
            ...(classes ? { classes } : {}),
            ...(defectClasses ? { defectClasses } : {}),
            replace: q.get('replace') === 'true',
          })
        } catch (err) {
          if (err instanceof AddModelError) throw new HttpError(err.code === 'exists' ? 409 : 422, err.code === 'exists' ? 'model_exists' : 'unrecognised_model', err.message)
          throw err
        }
        const m = added.manifest
        // this process serves it at once; other processes' watchers pick the folder up
        let loaded: { version: string; ep: string } | null = null
        if (core.engine) {
          try {
            const l = await core.engine.reload(m.name)
            loaded = { version: l.version, ep: l.ep }
            await reloadCandidate(m.name)
          } catch (err) {
            if (!(err instanceof ModelLoadError)) throw err
            core.log.warn({ err, model: m.name }, 'an added model did not load')
          }
        }
        await core.models.refresh()
        await core.store.audit.append({ actor: describePrincipal(ctx.principal), action: 'model.add', target: m.name, before: null, after: { version: m.version, sha256: m.sha256, format: m.output.format, classes: m.classes.length } })
        return json(201, { manifest: m, quantization: added.quantization ?? null, loaded })
      },
    },
    {
      method: 'post',
      pattern: '/api/v1/admin/models/:name/reload',
      access: 'admin',
      handler: async (ctx) => {
        const name = ctx.params.name ?? ''
        if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name)) throw new HttpError(400, 'bad_model', 'model names are lowercase letters, digits, _ and -')
        const before = engine().models().find((m) => m.name === name)
        try {
          const loaded = await engine().reload(name)
          await reloadCandidate(name)
          await core.models.refresh()
          await core.store.audit.append({
            actor: describePrincipal(ctx.principal),
            action: 'model.reload',
            target: name,
            before: before ? { version: before.version, sha256: before.sha256 } : null,
            after: { version: loaded.version, sha256: loaded.sha256, ep: loaded.ep },
          })
          return ok({ name: loaded.name, version: loaded.version, sha256: loaded.sha256, ep: loaded.ep })
        } catch (err) {
          if (err instanceof ModelLoadError) throw new HttpError(422, err.code, err.message)
          throw err
        }
      },
    },
  ]
}
