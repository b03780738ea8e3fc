/**
 * Every committed model is the file its manifest describes: valid manifest, sha256 matches, and
 * the golden file belongs to the committed detector (re-run models/tools/make-golden.ts after
 * retraining).
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseManifest } from '../../shared/domain/manifest.ts'
import { readGolden } from '../helpers/golden.ts'
import { ROOT } from '../helpers/server.ts'

const modelsDir = join(ROOT, 'models')
const modelDirs = readdirSync(modelsDir, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(modelsDir, d.name, 'manifest.json')))
  .map((d) => d.name)

describe('committed models', () => {
  it('include the default detector and prefilter', () => {
    expect(modelDirs).toEqual(expect.arrayContaining(['detector', 'prefilter']))
  })

  it.each(modelDirs)('%s: manifest is valid and the .onnx matches its sha256', (name) => {
    const path = join(modelsDir, name, 'manifest.json')
    const manifest = parseManifest(JSON.parse(readFileSync(path, 'utf8')), path)
    const bytes = readFileSync(join(modelsDir, name, manifest.file))
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(manifest.sha256)
  })

  it('golden outputs belong to the committed detector', () => {
    const path = join(modelsDir, 'detector', 'manifest.json')
    const manifest = parseManifest(JSON.parse(readFileSync(path, 'utf8')), path)
    expect(readGolden().model).toEqual({ name: manifest.name, version: manifest.version, sha256: manifest.sha256 })
  })
})
