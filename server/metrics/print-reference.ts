/** Prints docs/metrics.md: `npx tsx server/metrics/print-reference.ts > docs/metrics.md`. */
import { referenceMarkdown } from './reference.ts'

process.stdout.write(referenceMarkdown())
