/// <reference types="vitest/config" />
// Vite builds the UI into the Python package (urbanbrain/webui), so a built wheel serves it without Node.
import { fileURLToPath } from 'node:url'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vite'

const backend = process.env.URBANBRAIN_DEV_BACKEND ?? 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../urbanbrain/webui', import.meta.url)),
    emptyOutDir: true,
    // maplibre-gl and echarts are large single modules; they load only on the pages that draw maps/charts
    chunkSizeWarningLimit: 1600,
    sourcemap: false,
  },
  server: {
    proxy: { '/api': backend, '/open311': backend },
  },
  test: {
    environment: 'jsdom',
    include: ['tests/**/*.test.ts'],
  },
})
