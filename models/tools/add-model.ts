/**
 * Adds a user's own detection model to the models folder, writing its manifest:
 *
 *   npm run models:add -- path/to/best.onnx [--name NAME] [--version V] [--classes a,b] [--defects a,b] [--replace]
 *
 * The folder is LINESIGHT_MODELS_DIR (default `models/`). A running linesight picks the new folder up
 * by itself (the models watcher) or on `POST /api/v1/admin/models/:name/reload`. A file that cannot be
 * recognised is refused with the reason, exit code 1, and nothing is written.
 */
import { parseArgs } from 'node:util'
import { loadConfig } from '../../server/config/index.ts'
import { addModel, AddModelError, splitList } from '../../server/models/add-model.ts'

const USAGE = 'usage: npm run models:add -- FILE.onnx [--name NAME] [--version V] [--classes a,b,c] [--defects a,b] [--replace]'

async function main(): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        version: { type: 'string' },
        classes: { type: 'string' },
        defects: { type: 'string' },
        replace: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    })
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help || positionals.length !== 1) {
    console.error(USAGE)
    return values.help ? 0 : 2
  }
  const modelsDir = loadConfig().modelsDir
  try {
    const classes = splitList(values.classes)
    const defectClasses = splitList(values.defects)
    const r = await addModel(positionals[0]!, modelsDir, {
      ...(values.name ? { name: values.name } : {}),
      ...(values.version ? { version: values.version } : {}),
      ...(classes ? { classes } : {}),
      ...(defectClasses ? { defectClasses } : {}),
      replace: values.replace,
    })
    const m = r.manifest
    console.log(`added ${m.name} ${m.version} in ${r.dir}`)
    console.log(`  input  ${m.input.name} [${m.input.shape.join(', ')}]`)
    console.log(`  output ${m.output.name} ${m.output.format}, ${m.classes.length} classes${r.quantization ? `, ${r.quantization}` : ''}`)
    console.log(`  classes ${m.classes.slice(0, 10).join(', ')}${m.classes.length > 10 ? ', ...' : ''}`)
    console.log(`  thresholds: score ${Object.values(m.thresholds.score)[0]} for every class, NMS IoU ${m.thresholds.iou}: tune them in manifest.json or the settings panel`)
    if (m.license.startsWith('unknown')) console.log('  license: unknown; set it in manifest.json')
    return 0
  } catch (e) {
    if (e instanceof AddModelError) {
      console.error(e.message)
      return 1
    }
    throw e
  }
}

process.exitCode = await main()
