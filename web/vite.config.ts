/**
 * The web app (planner workspace and resident page). Build from the repository root:
 *   npx vite build --config web/vite.config.ts   → dist/web (served by `quarter serve` at /)
 * Dev: `npx vite --config web/vite.config.ts` proxies /api to a local `quarter serve` on :8080.
 */
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// URL keeps this file free of Node types (the web tsconfig is browser-only).
const here = (rel: string): string => decodeURIComponent(new URL(rel, import.meta.url).pathname);

export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [vue()],
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    // MapLibre alone is ~1 MB minified (~275 kB gzip); it is one chunk shared by both pages.
    chunkSizeWarningLimit: 1200,
    reportCompressedSize: true,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
});
