/**
 * Prints one last line, `N passed, N failed`, so CI logs show the count at a glance.
 * Skipped tests (e.g. broker tests without AMQP_URL) are counted on the line before.
 */
import type { Reporter, TestModule } from 'vitest/node'

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    for (const m of modules) {
      let failedHere = 0
      for (const t of m.children.allTests()) {
        const state = t.result().state
        if (state === 'passed') passed++
        else if (state === 'failed') failedHere++
        else skipped++
      }
      // a file that failed outside any test (an import or a beforeAll) counts as one failure
      if (m.state() === 'failed' && failedHere === 0) failedHere = 1
      failed += failedHere
    }
    failed += errors.length
    process.stdout.write(`\n${skipped} skipped\n${passed} passed, ${failed} failed\n`)
  }
}
