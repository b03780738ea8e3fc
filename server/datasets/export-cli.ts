/**
 * `npm run dataset:export -- --line L [--from T] [--to T] [--out file.zip] [--model name]`:
 * the same zip as `GET /api/v1/datasets/yolo`, written to a file straight from the store the
 * server uses (DATABASE_URL or the SQLite file in LINESIGHT_DATA_DIR). The classes are those of
 * the line's model (its saved settings, else LINESIGHT_DEFAULT_MODEL) unless --model names one.
 */
import { createWriteStream } from 'node:fs'
import { resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { isId } from '../../shared/domain/ids.ts'
import { loadConfig } from '../config/index.ts'
import { ModelCatalog } from '../models/catalog.ts'
import { openStore } from '../storage/index.ts'
import { yoloDatasetZip } from './yolo-zip.ts'

const { values } = parseArgs({ options: { line: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' }, model: { type: 'string' } } })

function time(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v)
  if (!Number.isFinite(n)) throw new Error(`--${name} must be ms since the epoch or an ISO date, got ${v}`)
  return n
}

const line = values.line
if (!line || !isId(line)) {
  process.stderr.write('usage: npm run dataset:export -- --line <line> [--from <ms|ISO>] [--to <ms|ISO>] [--out file.zip] [--model name]\n')
  process.exit(2)
}
const from = time(values.from, 'from')
const to = time(values.to, 'to')
const config = loadConfig()
const store = await openStore({ ...config, dataDir: resolve(config.dataDir) })
try {
  await store.migrate()
  const saved = (await store.settings.get(`line:${line}`))?.value as { model?: unknown } | undefined
  const modelName = values.model ?? (typeof saved?.model === 'string' ? saved.model : config.defaultModel)
  const models = new ModelCatalog(resolve(config.modelsDir))
  await models.refresh()
  const m = models.get(modelName)?.manifest
  if (!m || m.task !== 'detect') throw new Error(`model ${modelName} is not a detector in ${config.modelsDir}`)
  const out = resolve(values.out ?? `linesight-${line}-yolo.zip`)
  await pipeline(
    yoloDatasetZip({ reviews: store.reviews, results: store }, { line, model: `${m.name}@${m.version}`, classes: m.classes, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }),
    createWriteStream(out),
  )
  process.stdout.write(`${out}\n`)
} finally {
  await store.close()
}
