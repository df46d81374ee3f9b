// Vite builds the UI into `dist/`, which `skein serve --ui-dir` serves and the Tauri shell
// bundles. `base: './'` keeps every asset URL relative, so the same build works from any
// path and from the desktop app's custom protocol. No inline scripts are emitted, so the
// build runs under a strict CSP (`script-src 'self'`); Svelte's component styles go into the
// CSS file, not into <style> elements added at run time.
//
// Vitest (`npm test`) reads the `test` block: unit tests beside the code (`*.test.ts`), in
// Node by default; a test of components says `// @vitest-environment jsdom` at its top.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig(({ mode }) => ({
  base: './',
  plugins: [svelte()],
  // Components under test resolve Svelte's browser build (mount, not server rendering).
  resolve: mode === 'test' ? { conditions: ['browser'] } : undefined,
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // One module-preload polyfill would be an inline script; modern webviews do not need it.
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    // `npm run dev` talks to a `skein serve --bind 127.0.0.1:8787` running beside it.
    proxy: { '/api': { target: 'http://127.0.0.1:8787' } },
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
}));
