/**
 * Builds the web page (src/web/page) into dist/web with content-hashed asset names, which
 * src/server/routes/web.ts serves (`npm run build:web`; `npm start` builds it first).
 * `npx vite --config src/web/vite.config.ts` serves the page with hot reload and sends
 * the API paths to a server on 127.0.0.1:8080 (override with API_URL).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { WEB_DIST_DIR } from '../server/routes/web.ts';

/** The API's paths (a regular expression: a prefix such as `/map` would also catch `/map.ts`). */
const API_PATHS =
  '^/(similar|items|recommendations|status|map|admin|readyz|healthz|metrics|docs|openapi\\.yaml)(/|\\?|$)';
const api = process.env.API_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: fileURLToPath(new URL('./page/', import.meta.url)),
  base: '/',
  publicDir: false,
  build: {
    outDir: WEB_DIST_DIR,
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // Nothing inlined as data: URLs, no modulepreload polyfill: the CSP allows scripts and styles from 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    host: '127.0.0.1',
    proxy: { [API_PATHS]: { target: api } },
  },
});
