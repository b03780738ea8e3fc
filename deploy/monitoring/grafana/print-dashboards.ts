/**
 * Writes dashboards/*.json from dashboards.ts (a test fails when they differ):
 *   npx tsx deploy/monitoring/grafana/print-dashboards.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { DASHBOARDS, fileName } from './dashboards.ts'
import { dashboardJson, dashboardText } from './model.ts'

const dir = new URL('./dashboards/', import.meta.url)
mkdirSync(dir, { recursive: true })
for (const d of DASHBOARDS) {
  writeFileSync(new URL(fileName(d), dir), dashboardText(dashboardJson(d)))
  process.stdout.write(`dashboards/${fileName(d)}\n`)
}
