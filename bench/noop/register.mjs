// BENCHMARK ONLY: `NODE_OPTIONS=--import=<this file>` puts the no-op engine in a server process (hooks.mjs).
import { register } from 'node:module'

register('./hooks.mjs', import.meta.url)
