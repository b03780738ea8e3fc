/**
 * The one suite every store engine must pass (run by sqlite.test.ts and
 * test/integration/store-postgres.test.ts). `factory` makes a new, empty database per test.
 */
import { describe } from 'vitest'
import type { TestDatabaseFactory } from './contract/fixtures.ts'
import { imagesContract } from './contract/images.ts'
import { loadAndJobsContract } from './contract/load-jobs.ts'
import { migrationsContract } from './contract/migrations.ts'
import { partsContract } from './contract/parts.ts'
import { resultsContract } from './contract/results.ts'
import { settingsContract } from './contract/settings.ts'
import { tokensContract } from './contract/tokens.ts'

export type { TestDatabase, TestDatabaseFactory } from './contract/fixtures.ts'

export function storeContract(name: string, factory: TestDatabaseFactory): void {
  describe(`store contract: ${name}`, () => {
    migrationsContract(factory)
    resultsContract(factory)
    imagesContract(factory)
    tokensContract(factory)
    settingsContract(factory)
    loadAndJobsContract(factory)
    partsContract(factory)
  })
}
