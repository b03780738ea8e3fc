import { describe, expect, it } from 'vitest'
import { diskState, FULL_BELOW_BYTES } from './server-state.ts'

const MB = 1024 * 1024

describe('the data folder state shown on the admin page', () => {
  it('is ok above the minimum, low under it, full under a megabyte', () => {
    expect(diskState({ dataDir: { ready: true, freeBytes: 500 * MB, minFreeBytes: 64 * MB } })).toEqual({ level: 'ok', freeMb: 500, minFreeMb: 64 })
    expect(diskState({ dataDir: { ready: false, freeBytes: 10.55 * MB, minFreeBytes: 64 * MB } })).toEqual({ level: 'low', freeMb: 10.5, minFreeMb: 64 })
    expect(diskState({ dataDir: { ready: false, freeBytes: FULL_BELOW_BYTES - 1, minFreeBytes: 64 * MB } })).toMatchObject({ level: 'full' })
    // full even where no minimum is set (DATA_MIN_FREE_MB=0 keeps /ready 200)
    expect(diskState({ dataDir: { ready: true, freeBytes: 0, minFreeBytes: 0 } })).toMatchObject({ level: 'full', freeMb: 0 })
  })

  it('says why it does not know', () => {
    expect(diskState({ dataDir: { ready: false, minFreeBytes: 0, error: 'ENOENT: no such file or directory' } })).toEqual({ level: 'unknown', error: 'ENOENT: no such file or directory' })
    expect(diskState({})).toMatchObject({ level: 'unknown' })
  })
})
