/**
 * Model files for browsers, at URLs that carry their sha256 so they can be cached forever:
 * `/models/<name>/<sha256>.onnx`. A request for an old hash gets 404 (the station re-reads the
 * welcome message and fetches the current one).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Core } from '../core.ts'
import { notFound } from '../errors.ts'
import { CompressedCopies, encodedReply } from './compressed.ts'
import { ok, type Reply, type Route } from './types.ts'

export function modelRoutes(core: Core): Route[] {
  const copies = new CompressedCopies({ dir: join(core.config.dataDir, 'compressed') })
  return [
    {
      method: 'get',
      pattern: '/api/v1/models',
      access: 'read',
      handler: () => {
        const loaded = new Map((core.engine?.status().models ?? []).map((m) => [m.name, m]))
        return ok({
          models: core.models.list().map((e) => ({
            ...e.ref,
            task: e.manifest.task,
            bytes: e.bytes,
            classes: e.manifest.classes ?? [],
            ep: loaded.get(e.manifest.name)?.ep ?? null,
          })),
          errors: core.models.errors,
        })
      },
    },
    {
      method: 'get',
      pattern: '/models/:name/:file',
      // a device token (the station's cookie): the models are the plant's
      access: 'read',
      handler: async (ctx): Promise<Reply> => {
        const entry = core.models.get(ctx.params.name ?? '')
        if (!entry) throw notFound(`no model named ${ctx.params.name?.slice(0, 64)}`)
        if (ctx.params.file === 'manifest.json') {
          return { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' }, body: JSON.stringify(entry.manifest) }
        }
        if (ctx.params.file !== `${entry.manifest.sha256}.onnx`) throw notFound(`model ${entry.manifest.name} has no file ${ctx.params.file?.slice(0, 80)}`)
        const coded = encodedReply(copies, entry.manifest.name, 'application/octet-stream', `"${entry.manifest.sha256}"`, await readFile(entry.file), ctx.headers['accept-encoding'])
        return { status: 200, headers: { 'content-type': 'application/octet-stream', 'cache-control': 'public, max-age=31536000, immutable', ...coded.headers }, body: coded.body }
      },
    },
  ]
}
