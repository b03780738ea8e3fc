/**
 * `npm run models:add`: every model layout in test/fixtures/models (see its README) is recognised,
 * installed with a manifest the server's own parser accepts, and then loads and answers frames in the
 * real engine; a file that is not a detector, or not ONNX at all, is refused with its reason and
 * leaves the models folder untouched.
 */
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { createInferenceEngine } from '../../server/inference/engine.ts'
import { copy, REPO, sampleFrames, sha256, testSettings } from '../fixtures/inference.ts'
import { addModel, AddModelError } from '../../server/models/add-model.ts'
import { inspectOnnx } from '../../server/models/onnx-inspect.ts'
import { parseManifest, type DetectManifest } from '../../shared/domain/manifest.ts'
import { startServer, type RunningServer } from '../helpers/server.ts'

const FIXTURES = join(REPO, 'test/fixtures/models')
const run = promisify(execFile)

const CASES = [
  { file: 'yolov8-coco80-640.onnx', format: 'yolov8', classes: 80, size: 640, first: 'person' },
  { file: 'yolov8-1class-320.onnx', format: 'yolov8', classes: 1, size: 320, first: 'widget' },
  { file: 'yolov5-coco80-320.onnx', format: 'yolov5', classes: 80, size: 320, first: 'person' },
  { file: 'end2end-coco80-320.onnx', format: 'end2end', classes: 80, size: 320, first: 'person' },
  { file: 'detector-int8-qdq.onnx', format: 'yolov8', classes: 5, size: 320, first: 'part', quant: 'int8 QDQ' },
  { file: 'detector-int8-dynamic.onnx', format: 'yolov8', classes: 5, size: 320, first: 'part', quant: 'int8 dynamic (ConvInteger)' },
] as const

let dir: string
const entries = async () => (await readdir(dir)).sort()

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linesight-add-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('reading an ONNX file', () => {
  test('gives the Ultralytics metadata, shapes and operators of an export', async () => {
    const s = inspectOnnx(await readFile(join(FIXTURES, 'yolov8-coco80-640.onnx')))
    expect(s.metadata.task).toBe('detect')
    expect(s.metadata.imgsz).toBe('[640, 640]')
    expect(s.inputs).toEqual([{ name: 'images', elemType: 'float32', shape: [expect.any(String), 3, 640, 640] }])
    expect(s.outputs[0]).toMatchObject({ name: 'output0', elemType: 'float32' })
    expect(s.ops).toContain('Conv')
  })

  test('refuses bytes that are not protobuf', () => {
    expect(() => inspectOnnx(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]))).toThrow(/truncated|wire type|not an ONNX/)
  })
})

describe('models:add', () => {
  test.each(CASES)('installs $file as a $format model', async (c) => {
    const r = await addModel(join(FIXTURES, c.file), dir, { now: new Date('2026-01-02T00:00:00Z') })
    const m = r.manifest
    expect(m.output.format).toBe(c.format)
    expect(m.classes).toHaveLength(c.classes)
    expect(m.classes[0]).toBe(c.first)
    expect(m.input).toEqual({ name: 'images', shape: [-1, 3, c.size, c.size], layout: 'NCHW', normalize: '0-1', letterboxPad: 114 })
    expect(r.quantization).toBe('quant' in c ? c.quant : undefined)
    // what is on disk is what the server reads: the manifest parses, and the sha256 is the file's
    const written = parseManifest(JSON.parse(await readFile(join(r.dir, 'manifest.json'), 'utf8')), 'manifest.json') as DetectManifest
    expect(written).toEqual(m)
    expect(written.version).toMatch(/^2026-01-02-[0-9a-f]{8}$/)
    expect(sha256(await readFile(join(r.dir, written.file)))).toBe(written.sha256)
    expect(written.sha256).toBe(sha256(await readFile(join(FIXTURES, c.file))))
  })

  test('the installed models load in the engine and answer a frame', async () => {
    const rejected: string[] = []
    const engine = await createInferenceEngine({
      settings: testSettings(dir, { batchMaxSize: 1, batchMaxDelayMs: 0 }),
      log: { info() {}, warn() {}, error() {} },
      hooks: { onModelRejected: (e) => rejected.push(`${e.name}: ${e.error.message}`) },
    })
    try {
      expect(rejected).toEqual([])
      const names = engine.models().map((m) => m.name).sort()
      expect(names).toEqual(CASES.map((c) => c.file.replace('.onnx', '')).sort())
      const [frame] = await sampleFrames()
      for (const name of names) {
        const out = await engine.infer({ frameId: `add-${name}`, image: copy(frame!.bytes), model: name })
        expect(out.model.name).toBe(name)
        expect(out.width).toBeGreaterThan(0)
      }
      // the int8 detector, with its generated thresholds, still finds the part in the frame
      const q = await engine.infer({ frameId: 'add-qdq-part', image: copy(frame!.bytes), model: 'detector-int8-qdq' })
      expect(q.detections.some((d) => d.class === 'part')).toBe(true)
    } finally {
      await engine.close()
    }
  })

  test('refuses a second model of the same name, and installs a new version with --replace', async () => {
    const before = await entries()
    await expect(addModel(join(FIXTURES, 'yolov8-1class-320.onnx'), dir)).rejects.toThrow(/exists.*--replace/)
    expect(await entries()).toEqual(before)
    const r = await addModel(join(FIXTURES, 'yolov8-1class-320.onnx'), dir, { replace: true, version: '2' })
    expect(r.manifest.version).toBe('2')
    const files = (await readdir(r.dir)).sort()
    expect(files).toContain('yolov8-1class-320-2.onnx')
    expect(files.filter((f) => f.endsWith('.onnx'))).toHaveLength(2) // the running version's file stays until it is drained
  })

  test.each([
    ['an image classifier', async () => join(FIXTURES, 'classifier-1000.onnx'), /refused: unknown detection output format.*\[1, 1000\].*not look like a detector; nothing was written/],
    [
      'a JPEG renamed .onnx',
      async () => {
        const path = join(tmpdir(), `linesight-not-a-model-${process.pid}.onnx`)
        await writeFile(path, await readFile(join(REPO, 'models/samples/clean-part.jpg')))
        return path
      },
      /refused: not an ONNX model/,
    ],
  ] as const)('refuses %s with the reason and writes nothing', async (_what, input, reason) => {
    const path = await input()
    const before = await entries()
    const err = await addModel(path, dir).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AddModelError)
    expect((err as Error).message).toMatch(reason)
    expect(await entries()).toEqual(before)
    if (!path.startsWith(FIXTURES)) await rm(path)
  })

  test('the command exits 1 with the reason on a file it refuses, and 0 when it adds one', async () => {
    const cli = (...args: string[]) =>
      run(process.execPath, ['--import', 'tsx', join(REPO, 'models/tools/add-model.ts'), ...args], { cwd: REPO, env: { ...process.env, LINESIGHT_MODELS_DIR: dir } }).then(
        (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
      )
    const refused = await cli(join(FIXTURES, 'classifier-1000.onnx'))
    expect(refused.code).toBe(1)
    expect(refused.err).toContain('classifier-1000.onnx: refused')
    const added = await cli(join(FIXTURES, 'yolov8-1class-320.onnx'), '--name', 'widgets', '--defects', 'widget')
    expect(added.code).toBe(0)
    expect(added.out).toContain('added widgets')
    const m = JSON.parse(await readFile(join(dir, 'widgets', 'manifest.json'), 'utf8')) as DetectManifest
    expect(m.defectClasses).toEqual(['widget'])
  })
})

describe('POST /api/v1/admin/models', () => {
  let server: RunningServer
  let modelsDir: string
  const upload = (file: string, query: string, token?: string) =>
    readFile(join(FIXTURES, file)).then((body) =>
      fetch(`${server.url}/api/v1/admin/models?${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: new Uint8Array(body),
      }),
    )

  beforeAll(async () => {
    // a models folder of this test's own: the default detector and what the test adds
    modelsDir = await mkdtemp(join(tmpdir(), 'linesight-add-api-'))
    await cp(join(REPO, 'models/detector'), join(modelsDir, 'detector'), { recursive: true })
    server = await startServer({ env: { LINESIGHT_MODELS_DIR: modelsDir } })
  })
  afterAll(async () => {
    await server?.stop()
    if (modelsDir) await rm(modelsDir, { recursive: true, force: true })
  })

  test('installs an Ultralytics export, serves it at once, and audits it', async () => {
    const res = await upload('yolov8-1class-320.onnx', 'filename=best.onnx&name=widgets&defects=widget', server.adminToken)
    expect(res.status).toBe(201)
    const body = (await res.json()) as { manifest: DetectManifest; loaded: { version: string; ep: string } | null }
    expect(body.manifest).toMatchObject({ name: 'widgets', classes: ['widget'], defectClasses: ['widget'], output: { format: 'yolov8' } })
    expect(body.loaded).toEqual({ version: body.manifest.version, ep: 'cpu' })
    const frame = await readFile(join(REPO, 'models/samples/clean-part.jpg'))
    const detect = await server.admin(`/api/v1/detect?line=L1&model=widgets`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(frame) })
    expect(detect.status).toBe(200)
    expect(((await detect.json()) as { model: { name: string } }).model.name).toBe('widgets')
    const audit = (await (await server.admin('/api/v1/admin/audit?limit=50')).json()) as { items: { action: string; target: string }[] }
    expect(audit.items.some((a) => a.action === 'model.add' && a.target === 'widgets')).toBe(true)
  })

  test.each([
    ['a classifier', 'classifier-1000.onnx', 'name=cls', 422, 'unrecognised_model'],
    ['a second model of the same name', 'yolov8-1class-320.onnx', 'name=widgets', 409, 'model_exists'],
    ['a file name with a path', 'yolov8-1class-320.onnx', 'filename=..%2F..%2Fx.onnx', 400, 'bad_filename'],
  ] as const)('refuses %s with %i and writes nothing', async (_what, file, query, status, code) => {
    const before = (await readdir(modelsDir)).sort()
    const res = await upload(file, query, server.adminToken)
    expect(res.status).toBe(status)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code)
    expect((await readdir(modelsDir)).sort()).toEqual(before)
  })

  test('is for administrators only', async () => {
    const res = await upload('yolov8-1class-320.onnx', 'name=sneaky')
    expect([401, 403]).toContain(res.status)
    expect(await readdir(modelsDir)).not.toContain('sneaky')
  })
})
