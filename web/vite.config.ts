/**
 * The web app (planner workspace and resident page). Build from the repository root:
 *   npx vite build --config web/vite.config.ts   → dist/web (served by `quarter serve` at /)
 * Dev: `npx vite --config web/vite.config.ts` proxies /api to a local `quarter serve` on :8080.
 */
import vue from '@vitejs/plugin-vue';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';

// Paths relative to this file, so the build works from any working directory.
const here = (rel: string): string => decodeURIComponent(new URL(rel, import.meta.url).pathname);

/**
 * Brotli (quality 11) and gzip (level 9) copies of every built script and stylesheet, written
 * beside them once at build time: `quarter serve` sends those (preCompressed) instead of
 * compressing the same megabyte again for every visitor, and they are ~17 % smaller than the
 * quality the server could afford per request.
 */
function precompress(): Plugin {
  return {
    name: 'quarter-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      for (const name of Object.keys(bundle)) {
        if (!/\.(js|css)$/.test(name)) continue;
        const file = join(options.dir ?? '', name);
        const bytes = readFileSync(file);
        if (bytes.length < 1024) continue;
        writeFileSync(`${file}.br`, brotliCompressSync(bytes, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length } }));
        writeFileSync(`${file}.gz`, gzipSync(bytes, { level: 9 }));
      }
    },
  };
}

export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [vue(), precompress()],
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
