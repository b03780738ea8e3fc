/**
 * `npm run models:realsize -- [--out DIR] [--sizes 320,640] [--names coco80|line] [--replace]`:
 * a models folder with the real-size benchmark detector (models/tools/make_realsize.py: the default
 * detector's architecture widened to 3.4 M parameters, YOLOv8n-class, random seeded weights) at
 * each size, installed by `models:add`'s code as `realsize-SIZE` (80 COCO classes) or
 * `realsize-line-SIZE` (the default detector's five classes, to run as a line's candidate), beside
 * copies of the default detector and prefilter so a server can start on the folder as it is.
 * DIR defaults to bench/out/realsize-models (git-ignored). Needs /usr/bin/python3 with torch and
 * onnx (`apt-get install -y python3-torch python3-onnx`). Then, for instance:
 *
 *   npm run bench -- --quick --models bench/out/realsize-models --model realsize-320 --out bench/out/realsize-320
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { addModel } from '../../server/models/add-model.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const { values: v } = parseArgs({
  options: {
    out: { type: 'string', default: join(ROOT, 'bench/out/realsize-models') },
    sizes: { type: 'string', default: '320,640' },
    names: { type: 'string', default: 'coco80' },
    replace: { type: 'boolean', default: false },
    python: { type: 'string', default: process.env.PYTHON ?? '/usr/bin/python3' },
  },
})
if (v.names !== 'coco80' && v.names !== 'line') throw new Error(`--names must be coco80 or line, got ${v.names}`)
const sizes = v.sizes.split(',').map((s) => Number(s.trim()))
if (sizes.some((s) => !Number.isInteger(s) || s < 32 || s > 1280 || s % 32 !== 0)) throw new Error(`--sizes must be multiples of 32 from 32 to 1280, got ${v.sizes}`)
const out = resolve(v.out)
const nameOf = (size: number) => (v.names === 'line' ? `realsize-line-${size}` : `realsize-${size}`)

const todo = sizes.filter((s) => v.replace || !existsSync(join(out, nameOf(s), 'manifest.json')))
for (const s of sizes.filter((x) => !todo.includes(x))) console.log(`${nameOf(s)} is already in ${out} (--replace makes it again)`)
for (const dir of ['detector', 'prefilter']) {
  if (!existsSync(join(out, dir))) await cp(join(ROOT, 'models', dir), join(out, dir), { recursive: true })
}
if (todo.length) {
  const tmp = await mkdtemp(join(tmpdir(), 'linesight-realsize-'))
  try {
    const py = spawnSync(v.python, [join(ROOT, 'models/tools/make_realsize.py'), '--out', tmp, '--sizes', todo.join(','), '--names', v.names], {
      stdio: 'inherit',
      env: { ...process.env, PYTHONPATH: join(ROOT, 'models/tools') },
    })
    if (py.status !== 0) throw new Error(`make_realsize.py failed (exit ${py.status ?? py.signal}); it needs ${v.python} with torch and onnx`)
    const files = await readdir(tmp)
    for (const size of todo) {
      const file = files.find((f) => f === `realsize-${v.names}-${size}.onnx`)
      if (!file) throw new Error(`make_realsize.py wrote no model for size ${size} (found ${files.join(', ')})`)
      const r = await addModel(join(tmp, file), out, {
        name: nameOf(size),
        version: '0.0.1-random',
        ...(v.names === 'line' ? { defectClasses: ['scratch', 'dent', 'stain', 'crack'] } : {}),
        replace: v.replace,
      })
      console.log(`added ${r.manifest.name} (input [${r.manifest.input.shape.join(', ')}], ${r.manifest.classes.length} classes) in ${r.dir}`)
    }
  } finally {
    await rm(tmp, { recursive: true, force: true })
  }
}
console.log(`models folder: ${out}`)
