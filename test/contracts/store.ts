/**
 * The one suite every store engine must pass (run by sqlite.test.ts and
 * test/integration/store-postgres.test.ts). `factory` makes a new, empty database per test.
 */
import { describe } from 'vitest'
import type { TestDatabaseFactory } from './store/fixtures.ts'
import { devicesContract } from './store/devices.ts'
import { imagesContract } from './store/images.ts'
import { loadAndJobsContract } from './store/load-jobs.ts'
import { migrationsContract } from './store/migrations.ts'
import { resultsContract } from './store/results.ts'
import { partsContract } from './store/parts.ts'
import { reviewsContract } from './store/reviews.ts'
import { settingsContract } from './store/settings.ts'
import { tokensContract } from './store/tokens.ts'
import { webhooksContract } from './store/webhooks.ts'

export type { TestDatabase, TestDatabaseFactory } from './store/fixtures.ts'

export function storeContract(name: string, factory: TestDatabaseFactory): void {
  describe(`store contract: ${name}`, () => {
    migrationsContract(factory)
    resultsContract(factory)
    imagesContract(factory)
    tokensContract(factory)
    devicesContract(factory)
    settingsContract(factory)
    loadAndJobsContract(factory)
    webhooksContract(factory)
    reviewsContract(factory)
    partsContract(factory)
  })
}
