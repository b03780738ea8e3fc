import { describe, expect, it } from 'vitest'
import * as real from '../../server/wiring/engine.ts'
import * as noop from './engine.ts'

describe('the no-op engine double', () => {
  // hooks.mjs swaps the whole module: an export it lacks fails the server at start, in the benchmark only
  it('exports everything server/wiring/engine.ts exports', () => {
    expect(Object.keys(noop).sort()).toEqual(Object.keys(real).sort())
  })
})
