/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'
import { VitePWA } from 'vite-plugin-pwa'

const root = fileURLToPath(new URL('.', import.meta.url))

// Paths the server answers itself: the service worker must never answer them with index.html.
const serverPaths = [/^\/api\//, /^\/ws\//, /^\/models\//, /^\/metrics/, /^\/health/, /^\/ready/]

export default defineConfig({
  root: `${root}client`,
  publicDir: `${root}client/public`,
  plugins: [
    vue(),
    VitePWA({
      // an operator mid-inspection decides when to reload, so a new version waits for a tap
      registerType: 'prompt',
      injectRegister: false,
      // the icons are in globPatterns already; listing them twice would precache them twice
      includeManifestIcons: false,
      manifest: {
        name: 'linesight',
        short_name: 'linesight',
        description: 'Visual inspection on the production line',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'any',
        background_color: '#0a0f14',
        theme_color: '#0a0f14',
        icons: [
          { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/icons/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      workbox: {
        // the app shell only: models (.onnx) and the onnxruntime-web runtime (.wasm, 26 MB) are
        // versioned by content hash and kept by the inference worker in its own Cache Storage
        // (client/inference/model-cache.ts), verified before use; no route here touches them, so
        // the service worker never answers for them (the web manifest is added by the plugin itself)
        globPatterns: ['**/*.{js,css,html,svg,png}'],
        globIgnores: ['**/*.onnx', '**/*.wasm', '**/*.mjs.map', '**/*.js.map'],
        navigateFallback: '/index.html',
        navigateFallbackDenylist: serverPaths,
        cleanupOutdatedCaches: true,
      },
    }),
  ],
  define: {
    // vue-i18n's esm-bundler build reads these; without them it warns on every start
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  build: {
    outDir: `${root}dist/client`,
    emptyOutDir: true,
    target: 'es2022',
  },
  worker: { format: 'es' },
  optimizeDeps: {
    // onnxruntime-web locates its .wasm with `new URL(..., import.meta.url)`; pre-bundling moves the
    // module and breaks that, so the dev server serves it as it is
    exclude: ['onnxruntime-web'],
  },
  server: {
    proxy: {
      '/api': 'http://localhost:8080',
      '/ws': { target: 'ws://localhost:8080', ws: true },
      '/models': 'http://localhost:8080',
    },
  },
  test: {
    root,
    include: ['{client,server,shared,models,deploy,bench}/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'dist/**', 'bench/out/**'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default', './test/reporters/summary.ts'],
  },
})
