/** `npm run docs:settings`: prints the settings table that README.md embeds. */
import { settingsTable } from './index.ts'

process.stdout.write(`${settingsTable()}\n`)
