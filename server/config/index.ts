import { parseSettings, settingsMarkdown } from './define.ts'
import { SETTINGS } from './settings.ts'

export { ConfigError } from './define.ts'
export { SETTINGS }

export type Config = ReturnType<typeof loadConfig>

/** Parses the configuration once, at startup. */
export function loadConfig(env: Record<string, string | undefined> = process.env) {
  return parseSettings(SETTINGS, env)
}

export const settingsTable = () => settingsMarkdown(SETTINGS)
