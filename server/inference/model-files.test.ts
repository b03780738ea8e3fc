import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { isModelFolder, readModelFiles } from './model-files.ts'
import { ModelLoadError } from './types.ts'

const onnx = new TextEncoder().encode('pretend onnx bytes')
const sha = createHash('sha256').update(onnx).digest('hex')
const manifest = (over: object = {}) => ({
  name: 'm',
  version: '1.0.0',
  file: 'm.onnx',
  sha256: sha,
  license: 'Apache-2.0',
  task: 'detect',
  input: { name: 'images', shape: [-1, 3, 320, 320], layout: 'NCHW', normalize: '0-1', letterboxPad: 114 },
  output: { name: 'output0', format: 'yolov8' },
  classes: ['part', 'scratch'],
  defectClasses: ['scratch'],
  thresholds: { score: { part: 0.5, scratch: 0.3 }, iou: 0.5 },
  ...over,
})

describe('readModelFiles', () => {
  let root: string
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'linesight-mf-'))
  })
  afterEach(() => rm(root, { recursive: true, force: true }))

  async function folder(name: string, m: object, bytes: Uint8Array | null = onnx) {
    await mkdir(join(root, name), { recursive: true })
    await writeFile(join(root, name, 'manifest.json'), JSON.stringify(m))
    if (bytes) await writeFile(join(root, name, 'm.onnx'), bytes)
  }

  async function refusal(name: string): Promise<ModelLoadError> {
    const e = await readModelFiles(root, name).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(ModelLoadError)
    return e as ModelLoadError
  }

  test('returns the verified bytes and the manifest', async () => {
    await folder('m', manifest())
    const f = await readModelFiles(root, 'm')
    expect(f.sha256).toBe(sha)
    expect(Buffer.from(f.bytes).equals(Buffer.from(onnx))).toBe(true)
  })

  test('a sha256 mismatch names the .onnx and the manifest', async () => {
    await folder('m', manifest(), new TextEncoder().encode('other bytes'))
    const e = await refusal('m')
    expect(e.code).toBe('sha_mismatch')
    expect(e.message).toContain(join(root, 'm', 'm.onnx'))
    expect(e.message).toContain(join(root, 'm', 'manifest.json'))
  })

  test('an invalid manifest names the manifest and the field', async () => {
    await folder('m', manifest({ thresholds: { score: {}, iou: 2 } }))
    const e = await refusal('m')
    expect(e.code).toBe('bad_manifest')
    expect(e.message).toContain(join(root, 'm', 'manifest.json'))
    expect(e.message).toContain('thresholds.iou')
  })

  test('a manifest whose name is not its folder is refused', async () => {
    await folder('other', manifest())
    expect((await refusal('other')).message).toContain('does not match its folder')
  })

  test('a missing .onnx is missing_file, naming it', async () => {
    await folder('m', manifest(), null)
    const e = await refusal('m')
    expect([e.code, e.message.includes(join(root, 'm', 'm.onnx'))]).toEqual(['missing_file', true])
  })

  test('a name that could leave the models folder is refused without touching the disk', async () => {
    const e = await refusal('../etc')
    expect(e.code).toBe('bad_manifest')
    expect(await isModelFolder(root, '..')).toBe(false)
  })
})
