import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadConfig, settingsTable, SETTINGS } from './index.ts'

describe('settings', () => {
  it('README embeds exactly the table generated from server/config/settings.ts', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const embedded = readme.match(/<!-- settings:start -->\n([\s\S]*?)\n<!-- settings:end -->/)?.[1]
    // regenerate with: npm run docs:settings, and paste between the markers
    expect(embedded).toBe(settingsTable())
  })

  it('parses every default without an environment', () => {
    const c = loadConfig({})
    expect(c.port).toBe(8080)
    expect(c.amqpUrl).toBeUndefined()
  })

  it('names every bad variable in one error', () => {
    expect(() => loadConfig({ PORT: 'eighty', STATION_CREDIT: '0' })).toThrow(/PORT="eighty"[\s\S]*STATION_CREDIT="0"/)
  })

  it('declares each environment variable once', () => {
    const envs = Object.values(SETTINGS).map((s) => s.env)
    expect(new Set(envs).size).toBe(envs.length)
  })
})
