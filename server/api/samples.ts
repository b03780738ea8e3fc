/**
 * The committed sample images (models/samples), for the station's demo source when a tablet
 * has no camera, and for trying the system out.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Core } from '../core.ts'
import { notFound } from '../errors.ts'
import { ok, type Route } from './types.ts'

interface SampleIndex {
  samples: { file: string; width?: number; height?: number; labels?: unknown }[]
}

export function sampleRoutes(core: Core): Route[] {
  const dir = join(core.config.modelsDir, 'samples')
  const index = async (): Promise<SampleIndex> => {
    try {
      return JSON.parse(await readFile(join(dir, 'samples.json'), 'utf8')) as SampleIndex
    } catch {
      return { samples: [] }
    }
  }
  return [
    {
      method: 'get',
      pattern: '/api/v1/samples',
      access: 'read',
      handler: async () => {
        const { samples } = await index()
        return ok({ samples: samples.map((s) => ({ ...s, url: `/api/v1/samples/${encodeURIComponent(s.file)}` })) })
      },
    },
    {
      method: 'get',
      pattern: '/api/v1/samples/:file',
      access: 'read',
      handler: async (ctx) => {
        // only files the index names are served: the parameter never becomes a path by itself
        const sample = (await index()).samples.find((s) => s.file === ctx.params.file)
        if (!sample) throw notFound(`no sample named ${ctx.params.file?.slice(0, 80)}`)
        return { status: 200, headers: { 'content-type': 'image/jpeg', 'cache-control': 'public, max-age=3600' }, body: await readFile(join(dir, sample.file)) }
      },
    },
  ]
}
