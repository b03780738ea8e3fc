/** `npm run k8s:monitoring`: writes the generated files of deploy/k8s/monitoring (objects.ts). */
import { writeFileSync } from 'node:fs'
import { GENERATED, generatedText } from './objects.ts'

for (const g of GENERATED) {
  writeFileSync(new URL(g.file, import.meta.url), generatedText(g))
  process.stdout.write(`deploy/k8s/monitoring/${g.file}\n`)
}
