/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

const root = fileURLToPath(new URL('.', import.meta.url))

export default defineConfig({
  root: `${root}client`,
  publicDir: `${root}client/public`,
  plugins: [vue()],
  build: {
    outDir: `${root}dist/client`,
    emptyOutDir: true,
    target: 'es2022',
  },
  worker: { format: 'es' },
  server: {
    proxy: {
      '/api': 'http://localhost:8080',
      '/ws': { target: 'ws://localhost:8080', ws: true },
      '/models': 'http://localhost:8080',
    },
  },
  test: {
    root,
    include: ['{client,server,shared,models,deploy}/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/reporters/summary.ts'],
  },
})
